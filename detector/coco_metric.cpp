#include "detector/coco_metric.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "data/box.h"
#include "engine/error.h"

namespace focal::detector {
namespace {

constexpr int kThresholds = 10, kRecallPoints = 101, kAreas = 4;
constexpr std::array<int, 3> kMaxDets = {1, 10, 100};
constexpr std::array<std::array<double, 2>, kAreas> kAreaRanges = {
    {{0, 1e10}, {0, 32 * 32}, {32 * 32, 96 * 96}, {96 * 96, 1e10}}};  // all, small, medium, large

// numpy.linspace(.5, .95, 10) and linspace(0, 1, 101), bit for bit: i * step + start, last = stop.
double iou_threshold(int t) { return t == kThresholds - 1 ? 0.95 : t * ((0.95 - 0.5) / 9) + 0.5; }
double recall_point(int r) { return r == kRecallPoints - 1 ? 1.0 : r * (1.0 / 100); }

// pycocotools' box IoU (maskApi.c bbIou): for a crowd box, intersection / the detection's area.
double coco_iou(const Box& d, const Box& g, bool crowd) {
    const double iw = std::min(double(d.x2), double(g.x2)) - std::max(double(d.x1), double(g.x1));
    const double ih = std::min(double(d.y2), double(g.y2)) - std::max(double(d.y1), double(g.y1));
    if (iw <= 0 || ih <= 0) return 0;
    const double inter = iw * ih;
    const double da = (double(d.x2) - d.x1) * (double(d.y2) - d.y1);
    const double ga = (double(g.x2) - g.x1) * (double(g.y2) - g.y1);
    return inter / (crowd ? da : da + ga - inter);
}

double box_area(const Box& b) { return (double(b.x2) - b.x1) * (double(b.y2) - b.y1); }

// One image and category at one area range (pycocotools' evaluateImg).
struct ImageEval {
    std::vector<float> scores;                                    // the kept detections, best first
    std::array<std::vector<char>, kThresholds> matched, ignored;  // per threshold, per detection
    int counted_truth = 0;                                        // ground truth not ignored
};

ImageEval evaluate_image(const std::vector<const CocoTruth*>& truth, const std::vector<const Detection*>& dets,
                         const std::array<double, 2>& range) {
    // Ground truth not ignored first (stable), as the matching prefers it.
    std::vector<const CocoTruth*> gt = truth;
    const auto ignored = [&](const CocoTruth* g) {
        const double area = g->area >= 0 ? g->area : box_area(g->box);
        return g->crowd || area < range[0] || area > range[1];
    };
    std::stable_sort(gt.begin(), gt.end(), [&](auto a, auto b) { return !ignored(a) && ignored(b); });
    std::vector<char> gt_ignored(gt.size());
    ImageEval e;
    for (std::size_t g = 0; g < gt.size(); ++g) e.counted_truth += !(gt_ignored[g] = ignored(gt[g]));
    const std::size_t D = dets.size(), G = gt.size();
    std::vector<double> ious(D * G);
    for (std::size_t d = 0; d < D; ++d) {
        e.scores.push_back(dets[d]->score);
        for (std::size_t g = 0; g < G; ++g) ious[d * G + g] = coco_iou(dets[d]->box, gt[g]->box, gt[g]->crowd);
    }
    for (int t = 0; t < kThresholds; ++t) {
        std::vector<char> gt_taken(G, 0);
        e.matched[t].assign(D, 0);
        e.ignored[t].assign(D, 0);
        for (std::size_t d = 0; d < D; ++d) {
            double best = std::min(iou_threshold(t), 1 - 1e-10);
            long m = -1;
            for (std::size_t g = 0; g < G; ++g) {
                if (gt_taken[g] && !gt[g]->crowd) continue;
                if (m > -1 && !gt_ignored[std::size_t(m)] && gt_ignored[g]) break;
                if (ious[d * G + g] < best) continue;
                best = ious[d * G + g];
                m = long(g);
            }
            if (m == -1) {
                const double area = box_area(dets[d]->box);  // unmatched and outside the range: ignored
                e.ignored[t][d] = area < range[0] || area > range[1];
                continue;
            }
            e.ignored[t][d] = gt_ignored[std::size_t(m)];
            e.matched[t][d] = 1;
            gt_taken[std::size_t(m)] = 1;
        }
    }
    return e;
}

double mean_defined(const std::vector<double>& values) {
    double sum = 0;
    int n = 0;
    for (double v : values)
        if (v > -1) sum += v, ++n;
    return n ? sum / n : -1;
}

}  // namespace

CocoEvaluator::CocoEvaluator(int num_classes) : num_classes_(num_classes) {
    FOCAL_CHECK(num_classes > 0, "[coco] the number of classes must be > 0, got ", num_classes);
}

void CocoEvaluator::add_image(const std::vector<CocoTruth>& truth, const std::vector<Detection>& detections) {
    for (const CocoTruth& g : truth) {
        FOCAL_CHECK(g.label >= 0 && g.label < num_classes_, "[coco] ground-truth label ", g.label, " is outside 0..",
                    num_classes_ - 1);
        FOCAL_CHECK(g.box.x2 >= g.box.x1 && g.box.y2 >= g.box.y1, "[coco] inverted ground-truth box");
    }
    for (const Detection& d : detections) {
        FOCAL_CHECK(d.label >= 0 && d.label < num_classes_, "[coco] detection label ", d.label, " is outside 0..",
                    num_classes_ - 1);
        FOCAL_CHECK(std::isfinite(d.score), "[coco] a detection's score is not finite");
        FOCAL_CHECK(d.box.x2 >= d.box.x1 && d.box.y2 >= d.box.y1, "[coco] inverted detection box");
    }
    truth_.push_back(truth);
    detections_.push_back(detections);
}

CocoMetrics CocoEvaluator::compute() const {
    const int K = num_classes_, M = int(kMaxDets.size());
    // precision[t][r] and recall[t] per (k, a, m), -1 where undefined.
    const auto at = [&](int k, int a, int m) {
        return (std::size_t(k) * kAreas + std::size_t(a)) * M + std::size_t(m);
    };
    std::vector<std::vector<double>> precision(std::size_t(K) * kAreas * M), recall(std::size_t(K) * kAreas * M);
    for (int k = 0; k < K; ++k) {
        // Per image: class k's ground truth and its best 100 detections (stable by score).
        std::vector<std::vector<const CocoTruth*>> gts(truth_.size());
        std::vector<std::vector<const Detection*>> dts(truth_.size());
        for (std::size_t i = 0; i < truth_.size(); ++i) {
            for (const CocoTruth& g : truth_[i])
                if (g.label == k) gts[i].push_back(&g);
            for (const Detection& d : detections_[i])
                if (d.label == k) dts[i].push_back(&d);
            std::stable_sort(dts[i].begin(), dts[i].end(), [](auto a, auto b) { return a->score > b->score; });
            if (dts[i].size() > std::size_t(kMaxDets.back())) dts[i].resize(std::size_t(kMaxDets.back()));
        }
        for (int a = 0; a < kAreas; ++a) {
            std::vector<ImageEval> evals;
            for (std::size_t i = 0; i < truth_.size(); ++i)
                if (!gts[i].empty() || !dts[i].empty()) evals.push_back(evaluate_image(gts[i], dts[i], kAreaRanges[a]));
            int counted = 0;
            for (const ImageEval& e : evals) counted += e.counted_truth;
            if (evals.empty() || counted == 0) continue;
            for (int m = 0; m < M; ++m) {
                // Each image's first maxDet detections, concatenated in image order, then ranked.
                std::vector<float> scores;
                std::vector<std::pair<std::size_t, std::size_t>> origin;  // (eval, detection)
                for (std::size_t e = 0; e < evals.size(); ++e)
                    for (std::size_t d = 0; d < std::min(evals[e].scores.size(), std::size_t(kMaxDets[m])); ++d) {
                        scores.push_back(evals[e].scores[d]);
                        origin.emplace_back(e, d);
                    }
                std::vector<std::size_t> order(scores.size());
                std::iota(order.begin(), order.end(), std::size_t(0));
                std::stable_sort(order.begin(), order.end(), [&](auto x, auto y) { return scores[x] > scores[y]; });
                std::vector<double>& P = precision[at(k, a, m)];
                std::vector<double>& R = recall[at(k, a, m)];
                P.assign(std::size_t(kThresholds) * kRecallPoints, 0);
                R.assign(kThresholds, 0);
                for (int t = 0; t < kThresholds; ++t) {
                    std::vector<double> rc, pr;
                    double tp = 0, fp = 0;
                    for (std::size_t j : order) {
                        const auto [e, d] = origin[j];
                        if (evals[e].ignored[t][d]) continue;
                        (evals[e].matched[t][d] ? tp : fp) += 1;
                        rc.push_back(tp / counted);
                        pr.push_back(tp / (fp + tp + 2.220446049250313e-16));  // numpy.spacing(1)
                    }
                    // Ignored detections leave the cumulative sums flat; pycocotools keeps their
                    // repeated entries, which change no sample of the envelope.
                    R[std::size_t(t)] = rc.empty() ? 0 : rc.back();
                    for (std::size_t i = pr.size(); i-- > 1;) pr[i - 1] = std::max(pr[i - 1], pr[i]);
                    for (int r = 0; r < kRecallPoints; ++r) {
                        const auto it = std::lower_bound(rc.begin(), rc.end(), recall_point(r));
                        if (it == rc.end()) break;
                        P[std::size_t(t) * kRecallPoints + std::size_t(r)] = pr[std::size_t(it - rc.begin())];
                    }
                }
            }
        }
    }

    // Means over what is defined, as pycocotools' summarize().
    const auto ap = [&](int a, int m, int only_t) {
        std::vector<double> v;
        for (int k = 0; k < K; ++k) {
            const std::vector<double>& P = precision[at(k, a, m)];
            if (P.empty()) continue;
            for (int t = 0; t < kThresholds; ++t)
                if (only_t < 0 || t == only_t)
                    v.insert(v.end(), P.begin() + t * kRecallPoints, P.begin() + (t + 1) * kRecallPoints);
        }
        return mean_defined(v);
    };
    const auto ar = [&](int a, int m) {
        std::vector<double> v;
        for (int k = 0; k < K; ++k) {
            const std::vector<double>& R = recall[at(k, a, m)];
            v.insert(v.end(), R.begin(), R.end());
        }
        return mean_defined(v);
    };
    CocoMetrics out;
    out.ap = ap(0, 2, -1), out.ap50 = ap(0, 2, 0), out.ap75 = ap(0, 2, 5);
    out.ap_small = ap(1, 2, -1), out.ap_medium = ap(2, 2, -1), out.ap_large = ap(3, 2, -1);
    out.ar1 = ar(0, 0), out.ar10 = ar(0, 1), out.ar100 = ar(0, 2);
    out.ar_small = ar(1, 2), out.ar_medium = ar(2, 2), out.ar_large = ar(3, 2);
    for (int k = 0; k < K; ++k) out.per_class_ap.push_back(mean_defined(precision[at(k, 0, 2)]));
    return out;
}

nlohmann::json coco_results(std::int64_t image_id, const std::vector<Detection>& detections,
                            const std::vector<std::int64_t>& category_ids) {
    nlohmann::json out = nlohmann::json::array();
    for (const Detection& d : detections) {
        FOCAL_CHECK(d.label >= 0 && std::size_t(d.label) < category_ids.size(), "[coco] detection label ", d.label,
                    " has no category id (", category_ids.size(), " classes)");
        const std::array<double, 4> b = data::to_coco(d.box);
        out.push_back({{"image_id", image_id},
                       {"category_id", category_ids[std::size_t(d.label)]},
                       {"bbox", {b[0], b[1], b[2], b[3]}},
                       {"score", d.score}});
    }
    return out;
}

nlohmann::json coco_metrics_json(const CocoMetrics& m, const std::vector<std::string>& names) {
    nlohmann::json per_class = nlohmann::json::object();
    for (std::size_t k = 0; k < m.per_class_ap.size(); ++k)
        per_class[k < names.size() ? names[k] : std::to_string(k)] = m.per_class_ap[k];
    return {{"ap", m.ap},
            {"ap50", m.ap50},
            {"ap75", m.ap75},
            {"ap_small", m.ap_small},
            {"ap_medium", m.ap_medium},
            {"ap_large", m.ap_large},
            {"ar1", m.ar1},
            {"ar10", m.ar10},
            {"ar100", m.ar100},
            {"ar_small", m.ar_small},
            {"ar_medium", m.ar_medium},
            {"ar_large", m.ar_large},
            {"per_class_ap", per_class},
            {"metric", "COCO by pycocotools' rules (detector/coco_metric.h): IoU .50:.05:.95, 101-point, "
                       "area ranges, crowd and difficult boxes ignored, 100 detections per image and class; "
                       "-1 = nothing to score"}};
}

std::string format_coco_metrics(const CocoMetrics& m) {
    char buffer[1024];
    std::snprintf(buffer, sizeof buffer,
                  "COCO (pycocotools' rules, IoU .50:.95, 101-point; -1 = nothing to score):\n"
                  "  AP %.4f | AP50 %.4f | AP75 %.4f | AP small %.4f | AP medium %.4f | AP large %.4f\n"
                  "  AR1 %.4f | AR10 %.4f | AR100 %.4f | AR small %.4f | AR medium %.4f | AR large %.4f\n",
                  m.ap, m.ap50, m.ap75, m.ap_small, m.ap_medium, m.ap_large, m.ar1, m.ar10, m.ar100, m.ar_small,
                  m.ar_medium, m.ar_large);
    return buffer;
}

}  // namespace focal::detector
