// Where the loss goes (report section 4). A converged model trained with FL (gamma 2) scores
// val images; the loss library's per-element focal loss (reduction none) at gamma 0, .5, 1, 2
// (alpha .25) is summed per anchor, and the anchors' losses, sorted and normalised to sum to
// one, give the cumulative distributions of Lin et al. 2017, Figure 4, separately over the
// positive and the negative anchors. Then one image: where its negatives' loss lies under CE
// and under FL.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numeric>
#include <sstream>

#include "data/loader.h"
#include "detector/box_coder.h"
#include "detector/matcher.h"
#include "detector/targets.h"
#include "engine/util.h"
#include "experiments.h"
#include "losses/registry.h"

namespace focal::cli::experiments {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr float kAlpha = 0.25f;
const std::vector<float> kGammas = {0.0f, 0.5f, 1.0f, 2.0f};

// Per-element FL (N, A, K) of the trained model's logits against the anchors' labels; zero
// on ignored anchors, as the trainer's loss sees them.
Tensor element_loss(const Tensor& logits, const Tensor& labels, float gamma) {
    const losses::ClassificationLoss fl = losses::make_cls_loss("focal", {{"gamma", gamma}, {"alpha", kAlpha}});
    return fl(losses::ClsLossInput{logits, labels, Tensor(), 1.0f, losses::Reduction::None});
}

// Fractions of anchors where the CDF is sampled: uniform, plus finer steps in the top 1 %,
// where the negatives' loss concentrates.
std::vector<double> cdf_fractions() {
    std::vector<double> f;
    for (int i = 0; i <= 1000; ++i) f.push_back(i / 1000.0);
    for (int i = 1; i < 100; ++i) f.push_back(0.99 + i * 1e-4), f.push_back(0.999 + i * 1e-5);
    std::sort(f.begin(), f.end());
    f.erase(std::unique(f.begin(), f.end(), [](double a, double b) { return b - a < 1e-9; }), f.end());
    return f;
}

struct Distribution {
    std::vector<double> prefix;  // prefix[i]: the loss of the i easiest anchors
    double total() const { return prefix.back(); }
    size_t size() const { return prefix.size() - 1; }
    double cumulative(double fraction) const {  // normalised, of the easiest `fraction` anchors
        const size_t i = std::min(size(), size_t(std::llround(fraction * double(size()))));
        return total() > 0 ? prefix[i] / total() : 0.0;
    }
    double hardest_share(double fraction) const { return 1.0 - cumulative(1.0 - fraction); }
    // the smallest fraction of the hardest anchors that carries half the loss
    double fraction_for_half() const {
        size_t k = 0;
        while (k < size() && total() - prefix[size() - k] < 0.5 * total()) ++k;
        return size() ? double(k) / double(size()) : 0.0;
    }
};

Distribution distribution(std::vector<float> values) {
    std::sort(values.begin(), values.end());
    Distribution d;
    d.prefix.assign(1, 0.0);
    for (float v : values) d.prefix.push_back(d.prefix.back() + v);
    return d;
}

std::string pct(double v) { return fmt(100 * v, v < 0.01 ? 2 : 1) + " %"; }

}  // namespace

std::string write_loss_analysis(const std::string& run_dir, const std::string& data_dir, const std::string& out_dir,
                                int max_images) {
    const fs::path dir = fs::path(out_dir) / "analysis";
    fs::create_directories(dir);
    detector::LoadedRun loaded = detector::load_run(run_dir, "last");
    detector::RetinaNet& model = *loaded.model;
    const detector::RetinaNetConfig& mc = model.config;
    data::DatasetOptions vo;
    vo.split = "val";
    vo.classes = join(loaded.class_names);
    const data::Dataset ds = data::Dataset::open(data_dir, vo);
    const size_t n = std::min(ds.size(), size_t(std::max(max_images, 1)));
    FOCAL_CHECK(n > 0, "[experiments] the val split of ", data_dir, " is empty");
    const int64_t size = mc.image_size;
    const detector::LevelSizes levels = detector::level_sizes(mc.anchors, size, size);
    const std::vector<detector::Box>& anchors = model.anchors(size, size);
    const int64_t A = int64_t(anchors.size());
    data::LoaderOptions lo;
    lo.image_size = int(size);
    lo.augment = false;
    lo.shuffle = false;

    // Per-anchor loss of every analysed image at each gamma, split by the anchor's label.
    std::vector<std::vector<float>> positives(kGammas.size()), negatives(kGammas.size());
    std::vector<float> hardest_negative(n, 0.0f);  // per image, FL (gamma 2): picks the overlay's image
    const std::vector<int> distractors = distractor_counts(data_dir, ds);
    for (size_t start = 0; start < n; start += 8) {
        std::vector<size_t> indices;
        for (size_t i = start; i < std::min(n, start + 8); ++i) indices.push_back(i);
        const data::Batch b = data::make_batch(ds, indices, lo, 0);
        NoGradGuard no_grad;
        const detector::HeadOutputs out = model.forward(Tensor::from_vector(b.images, {b.n, 3, b.h, b.w}));
        const detector::TrainingTargets t = detector::build_targets(anchors, b, detector::MatcherConfig{}, model.coder);
        const std::vector<int32_t> labels = t.labels.to_vector<int32_t>();
        for (size_t g = 0; g < kGammas.size(); ++g) {
            const std::vector<float> per_anchor = sum(element_loss(out.cls_logits, t.labels, kGammas[g]), {-1})
                                                      .to_vector<float>();  // (N, A, K) -> (N, A)
            for (size_t i = 0; i < per_anchor.size(); ++i) {
                if (labels[i] >= 0) positives[g].push_back(per_anchor[i]);
                else if (labels[i] == detector::kMatchBackground) negatives[g].push_back(per_anchor[i]);
                if (kGammas[g] == 2.0f && labels[i] == detector::kMatchBackground) {
                    float& h = hardest_negative[start + i / size_t(A)];
                    h = std::max(h, per_anchor[i]);
                }
            }
        }
    }

    // Figure 4: the normalised CDFs, and the shares quoted in the report.
    std::string cdf = "gamma,kind,fraction,cumulative\n";
    std::string shares = "gamma,positives,negatives,positive_loss,negative_loss,negative_share_of_total,"
                         "hardest_1pct_negative_share,hardest_10pct_negative_share,negative_fraction_for_half,"
                         "positive_fraction_for_half\n";
    const std::vector<double> fractions = cdf_fractions();
    std::vector<Distribution> pos_d, neg_d;
    for (size_t g = 0; g < kGammas.size(); ++g) {
        pos_d.push_back(distribution(positives[g]));
        neg_d.push_back(distribution(negatives[g]));
        for (const auto& [kind, d] :
             {std::pair<const char*, const Distribution*>{"positive", &pos_d[g]}, {"negative", &neg_d[g]}})
            for (double f : fractions)
                cdf += fmt(kGammas[g], 1) + "," + kind + "," + fmt(f, 5) + "," + fmt(d->cumulative(f), 6) + "\n";
        const Distribution &p = pos_d[g], &q = neg_d[g];
        shares += fmt(kGammas[g], 1) + "," + std::to_string(p.size()) + "," + std::to_string(q.size()) + "," +
                  fmt(p.total(), 4) + "," + fmt(q.total(), 4) + "," + fmt(q.total() / (p.total() + q.total()), 5) +
                  "," + fmt(q.hardest_share(0.01), 5) + "," + fmt(q.hardest_share(0.10), 5) + "," +
                  fmt(q.fraction_for_half(), 6) + "," + fmt(p.fraction_for_half(), 6) + "\n";
    }
    write_text_file((dir / "loss_cdf.csv").string(), cdf);
    write_text_file((dir / "loss_shares.csv").string(), shares);

    // The overlay: among the images with a distractor (all, when unknown), the one whose
    // hardest negative anchor has the highest FL: where the hard negatives show best.
    bool any_distractor = false;
    for (size_t i = 0; i < n; ++i) any_distractor |= distractors[i] > 0;
    size_t pick = n;
    for (size_t i = 0; i < n; ++i)
        if ((!any_distractor || distractors[i] > 0) && (pick == n || hardest_negative[i] > hardest_negative[pick]))
            pick = i;
    const data::Batch b = data::make_batch(ds, {pick}, lo, 0);
    NoGradGuard no_grad;
    const detector::HeadOutputs out = model.forward(Tensor::from_vector(b.images, {b.n, 3, b.h, b.w}));
    const detector::TrainingTargets t = detector::build_targets(anchors, b, detector::MatcherConfig{}, model.coder);
    const std::vector<int32_t> labels = t.labels.to_vector<int32_t>();
    const int64_t per_location = mc.anchors.per_location();
    json maps = json::object(), stats = json::object();
    for (const auto& [name, gamma] : {std::pair<const char*, float>{"ce", 0.0f}, {"fl", 2.0f}}) {
        std::vector<float> loss = sum(element_loss(out.cls_logits, t.labels, gamma), {-1}).to_vector<float>();
        const double total = std::accumulate(loss.begin(), loss.end(), 0.0);
        // Negative anchors only: positives carry a large loss under either, and the question
        // is how each loss spreads over the background.
        for (size_t i = 0; i < loss.size(); ++i)
            if (labels[i] != detector::kMatchBackground) loss[i] = 0.0f;
        const double negative = std::accumulate(loss.begin(), loss.end(), 0.0);
        // Each level's per-location sum over its anchors (and classes), as a share of the
        // image's negative loss, drawn at the level's stride; the max over levels is shown.
        std::vector<float> image_map(size_t(size * size), 0.0f);
        int64_t offset = 0;
        for (size_t l = 0; l < levels.size(); ++l) {
            const int64_t h = levels[l][0], w = levels[l][1], stride = mc.anchors.strides[l];
            std::vector<double> cell(size_t(h * w), 0.0);
            for (int64_t a = 0; a < h * w * per_location; ++a)  // anchors are location-major
                cell[size_t(a / per_location)] += loss[size_t(offset + a)];
            offset += h * w * per_location;
            for (int64_t y = 0; y < size; ++y)
                for (int64_t x = 0; x < size; ++x) {
                    const int64_t cy = std::min(y / stride, h - 1), cx = std::min(x / stride, w - 1);
                    float& v = image_map[size_t(y * size + x)];
                    v = std::max(v, float(cell[size_t(cy * w + cx)] / std::max(negative, 1e-30)));
                }
        }
        maps[name] = image_map;
        std::vector<float> neg;
        for (size_t i = 0; i < loss.size(); ++i)
            if (labels[i] == detector::kMatchBackground) neg.push_back(loss[i]);
        const Distribution d = distribution(neg);
        stats[name] = {{"negative_share_of_total", negative / std::max(total, 1e-30)},
                       {"hardest_10_share_of_negatives",
                        1.0 - (d.size() >= 10 ? d.prefix[d.size() - 10] : 0.0) / std::max(negative, 1e-30)},
                       {"negative_fraction_for_half", d.fraction_for_half()},
                       {"negatives", d.size()}};
    }
    // The image as the model saw it (letterboxed), and its objects in those coordinates.
    data::Sample sample = data::load_sample(ds, pick);
    data::letterbox(sample, int(size));
    data::save_png(sample.image, (dir / "overlay_image.png").string());
    json truth = json::array();
    for (size_t j = 0; j < sample.boxes.size(); ++j)
        truth.push_back({{"box", {sample.boxes[j].x1, sample.boxes[j].y1, sample.boxes[j].x2, sample.boxes[j].y2}},
                         {"label", sample.labels[j]}});
    const json overlay = {{"image", "overlay_image.png"},
                          {"id", ds.annotation(pick).id},
                          {"size", size},
                          {"distractors", distractors[pick]},
                          {"truth", truth},
                          {"classes", loaded.class_names},
                          {"maps", maps},
                          {"stats", stats}};
    write_text_file((dir / "loss_overlay.json").string(), overlay.dump() + "\n");

    std::ostringstream s;
    const size_t g2 = 3, g0 = 0;  // kGammas
    s << "Over " << n << " val images (" << pos_d[g2].size() << " positive and " << neg_d[g2].size()
      << " negative anchors), the hardest 1 % of the negative anchors carry " << pct(neg_d[g2].hardest_share(0.01))
      << " of the negatives' loss under FL (γ 2), against " << pct(neg_d[g0].hardest_share(0.01))
      << " under CE (γ 0); half of it sits in the hardest " << pct(neg_d[g2].fraction_for_half())
      << " (CE: " << pct(neg_d[g0].fraction_for_half()) << "). The negatives carry "
      << pct(neg_d[g2].total() / (neg_d[g2].total() + pos_d[g2].total())) << " of the total loss under FL, "
      << pct(neg_d[g0].total() / (neg_d[g0].total() + pos_d[g0].total())) << " under CE.\n\n"
      << "In the overlay's image (val " << ds.annotation(pick).id << "), the 10 hardest of its "
      << stats["fl"]["negatives"].get<size_t>() << " negative anchors carry "
      << pct(stats["fl"]["hardest_10_share_of_negatives"].get<double>()) << " of the negatives' loss under FL and "
      << pct(stats["ce"]["hardest_10_share_of_negatives"].get<double>()) << " under CE; the negatives carry "
      << pct(stats["fl"]["negative_share_of_total"].get<double>()) << " of the image's loss under FL, "
      << pct(stats["ce"]["negative_share_of_total"].get<double>()) << " under CE.";
    return s.str();
}

}  // namespace focal::cli::experiments
