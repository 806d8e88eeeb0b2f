#include "detector/voc_metric.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <limits>
#include <sstream>

#include "engine/error.h"

namespace focal::detector {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct Ranked {
    float score;
    int image;
    Box box;
};

// Detections of class k over all images, best first; ties keep image order, then input order.
std::vector<Ranked> ranked(const std::vector<std::vector<Detection>>& detections, int k) {
    std::vector<Ranked> out;
    for (int i = 0; i < int(detections.size()); ++i)
        for (const Detection& d : detections[std::size_t(i)])
            if (d.label == k) out.push_back({d.score, i, d.box});
    std::stable_sort(out.begin(), out.end(), [](const Ranked& a, const Ranked& b) { return a.score > b.score; });
    return out;
}

// AP of one class from its ranked matches; an ignored detection adds a point that moves
// neither recall nor precision, as in the devkit.
void voc_class(const std::vector<RankedMatch>& matches, int positives, ClassAP& out) {
    std::vector<int> tp, fp;
    for (const RankedMatch& m : matches) {
        tp.push_back(m.result == MatchResult::TruePositive);
        fp.push_back(m.result == MatchResult::FalsePositive);
    }
    std::vector<double> recall, precision;
    precision_recall_curve(tp, fp, positives, recall, precision);
    out.ap_11point = ap_11point(recall, precision);
    out.ap_area = ap_area(recall, precision);
}

// pycocotools' matching at one IoU threshold: the best still-unmatched ground truth, preferring
// non-difficult ones; a detection matched to a difficult one is ignored.
double coco_class_at(const std::vector<std::vector<GroundTruth>>& truth, const std::vector<Ranked>& dets, int k,
                     int positives, double threshold) {
    std::vector<std::vector<int>> order(truth.size());  // per image: class-k truths, non-difficult first
    std::vector<std::vector<char>> taken(truth.size());
    for (std::size_t i = 0; i < truth.size(); ++i) {
        for (int g = 0; g < int(truth[i].size()); ++g)
            if (truth[i][std::size_t(g)].label == k) order[i].push_back(g);
        std::stable_sort(order[i].begin(), order[i].end(), [&](int a, int b) {
            return !truth[i][std::size_t(a)].difficult && truth[i][std::size_t(b)].difficult;
        });
        taken[i].assign(order[i].size(), 0);
    }
    std::vector<int> tp, fp;
    for (const Ranked& d : dets) {
        const std::vector<GroundTruth>& gts = truth[std::size_t(d.image)];
        const std::vector<int>& candidates = order[std::size_t(d.image)];
        double best = std::min(threshold, 1 - 1e-10);
        int m = -1;
        for (int c = 0; c < int(candidates.size()); ++c) {
            if (taken[std::size_t(d.image)][std::size_t(c)]) continue;
            const GroundTruth& g = gts[std::size_t(candidates[std::size_t(c)])];
            if (m >= 0 && !gts[std::size_t(candidates[std::size_t(m)])].difficult && g.difficult) break;
            const double o = data::iou(d.box, g.box);
            if (o < best) continue;
            best = o;
            m = c;
        }
        if (m >= 0) {
            taken[std::size_t(d.image)][std::size_t(m)] = 1;
            if (gts[std::size_t(candidates[std::size_t(m)])].difficult) continue;  // ignored
        }
        tp.push_back(m >= 0);
        fp.push_back(m < 0);
    }
    std::vector<double> recall, precision;
    precision_recall_curve(tp, fp, positives, recall, precision);
    return ap_101point(recall, precision);
}

}  // namespace

// The devkit's greedy matching at IoU > 0.5.
std::vector<RankedMatch> voc_match_class(const std::vector<std::vector<GroundTruth>>& truth,
                                         const std::vector<std::vector<Detection>>& detections, int k) {
    std::vector<std::vector<char>> taken(truth.size());
    for (std::size_t i = 0; i < truth.size(); ++i) taken[i].assign(truth[i].size(), 0);
    std::vector<RankedMatch> out;
    for (const Ranked& d : ranked(detections, k)) {
        const std::vector<GroundTruth>& gts = truth[std::size_t(d.image)];
        double best = -std::numeric_limits<double>::infinity();
        int j = -1;
        for (int g = 0; g < int(gts.size()); ++g) {
            if (gts[std::size_t(g)].label != k) continue;
            const double o = data::iou(d.box, gts[std::size_t(g)].box);
            if (o > best) {  // the first of equal maxima, as numpy's argmax
                best = o;
                j = g;
            }
        }
        MatchResult result = MatchResult::FalsePositive;
        if (best > 0.5 && gts[std::size_t(j)].difficult) {
            result = MatchResult::Ignored;  // neither true nor false positive
        } else if (best > 0.5) {
            char& used = taken[std::size_t(d.image)][std::size_t(j)];
            if (!used) result = MatchResult::TruePositive;  // else a second detection of the object
            used = 1;
        }
        out.push_back({d.image, d.box, result});
    }
    return out;
}

void precision_recall_curve(const std::vector<int>& tp, const std::vector<int>& fp, int positives,
                            std::vector<double>& recall, std::vector<double>& precision) {
    double tps = 0, fps = 0;
    for (std::size_t i = 0; i < tp.size(); ++i) {
        tps += tp[i];
        fps += fp[i];
        recall.push_back(tps / positives);
        precision.push_back(tps / std::max(tps + fps, std::numeric_limits<double>::epsilon()));
    }
}

double ap_11point(const std::vector<double>& recall, const std::vector<double>& precision) {
    double ap = 0;
    for (int i = 0; i <= 10; ++i) {
        const double t = i * 0.1;  // 0.30000000000000004 etc., exactly as the devkit's arange
        double p = 0;
        for (std::size_t j = 0; j < recall.size(); ++j)
            if (recall[j] >= t) p = std::max(p, precision[j]);
        ap = ap + p / 11.0;
    }
    return ap;
}

double ap_area(const std::vector<double>& recall, const std::vector<double>& precision) {
    std::vector<double> r = {0}, p = {0};
    r.insert(r.end(), recall.begin(), recall.end());
    p.insert(p.end(), precision.begin(), precision.end());
    r.push_back(1);
    p.push_back(0);
    for (std::size_t i = p.size() - 1; i > 0; --i) p[i - 1] = std::max(p[i - 1], p[i]);  // envelope
    double ap = 0;
    for (std::size_t i = 0; i + 1 < r.size(); ++i)
        if (r[i + 1] != r[i]) ap += (r[i + 1] - r[i]) * p[i + 1];
    return ap;
}

double ap_101point(const std::vector<double>& recall, const std::vector<double>& precision) {
    std::vector<double> p = precision;
    for (std::size_t i = p.size(); i > 1; --i) p[i - 2] = std::max(p[i - 2], p[i - 1]);
    double sum = 0;
    for (int i = 0; i <= 100; ++i) {
        const double t = i * 0.01;
        const auto at = std::lower_bound(recall.begin(), recall.end(), t);  // first recall >= t
        if (at != recall.end()) sum += p[std::size_t(at - recall.begin())];
    }
    return sum / 101;
}

VocEvaluator::VocEvaluator(int num_classes) : num_classes_(num_classes) {
    check(num_classes > 0, "[voc_metric] number of classes must be positive, got ", num_classes);
}

void VocEvaluator::add_image(const std::vector<GroundTruth>& truth, const std::vector<Detection>& detections) {
    const int image = images();
    for (const GroundTruth& g : truth) {
        check(g.label >= 0 && g.label < num_classes_, "[voc_metric] image ", image, ": ground-truth label ", g.label,
              " is outside 0..", num_classes_ - 1);
        check(g.box.x2 >= g.box.x1 && g.box.y2 >= g.box.y1, "[voc_metric] image ", image,
              ": inverted ground-truth box");
    }
    for (const Detection& d : detections) {
        check(d.label >= 0 && d.label < num_classes_, "[voc_metric] image ", image, ": detection label ", d.label,
              " is outside 0..", num_classes_ - 1);
        check(std::isfinite(d.score), "[voc_metric] image ", image, ": detection score ", d.score, " is not finite");
        check(std::isfinite(d.box.x1) && std::isfinite(d.box.y1) && std::isfinite(d.box.x2) &&
                  std::isfinite(d.box.y2) && d.box.x2 >= d.box.x1 && d.box.y2 >= d.box.y1,
              "[voc_metric] image ", image, ": detection box (", d.box.x1, ", ", d.box.y1, ", ", d.box.x2, ", ",
              d.box.y2, ") is not a box");
    }
    truth_.push_back(truth);
    detections_.push_back(detections);
}

VocMetrics VocEvaluator::compute() const {
    VocMetrics m;
    m.per_class.resize(std::size_t(num_classes_));
    for (int k = 0; k < num_classes_; ++k) {
        ClassAP& c = m.per_class[std::size_t(k)];
        for (const auto& gts : truth_)
            for (const GroundTruth& g : gts) c.positives += g.label == k && !g.difficult;
        const std::vector<Ranked> dets = ranked(detections_, k);
        c.detections = int(dets.size());
        if (c.positives == 0) {
            c.ap_11point = c.ap_area = c.ap_coco = kNaN;
            continue;
        }
        voc_class(voc_match_class(truth_, detections_, k), c.positives, c);
        c.ap_coco = 0;
        for (int t = 0; t < 10; ++t) c.ap_coco += coco_class_at(truth_, dets, k, c.positives, 0.5 + 0.05 * t) / 10;
        m.map_11point += c.ap_11point;
        m.map_area += c.ap_area;
        m.map_coco += c.ap_coco;
        ++m.classes_counted;
    }
    if (m.classes_counted > 0) {
        m.map_11point /= m.classes_counted;
        m.map_area /= m.classes_counted;
        m.map_coco /= m.classes_counted;
    } else {
        m.map_11point = m.map_area = m.map_coco = kNaN;
    }
    return m;
}

std::string format_voc_metrics(const VocMetrics& m, const std::vector<std::string>& names) {
    std::ostringstream out;
    out << std::left << std::setw(14) << "class" << std::right << std::setw(8) << "gt" << std::setw(8) << "dets"
        << std::setw(11) << "AP07-11pt" << std::setw(11) << "AP-area" << std::setw(11) << "AP.5:.95"
        << "\n"
        << std::fixed << std::setprecision(4);
    for (std::size_t k = 0; k < m.per_class.size(); ++k) {
        const ClassAP& c = m.per_class[k];
        out << std::left << std::setw(14) << (k < names.size() ? names[k] : "class " + std::to_string(k)) << std::right
            << std::setw(8) << c.positives << std::setw(8) << c.detections << std::setw(11) << c.ap_11point
            << std::setw(11) << c.ap_area << std::setw(11) << c.ap_coco << "\n";
    }
    out << "mAP@0.5, VOC2007 11-point:  " << m.map_11point << "\n"
        << "mAP@0.5, VOC2010+ area:     " << m.map_area << "\n"
        << "AP@[.5:.95], COCO-style:   " << m.map_coco << "\n"
        << "(mean over " << m.classes_counted << " classes with ground truth; 'difficult' objects ignored)\n";
    return out.str();
}

}  // namespace focal::detector
