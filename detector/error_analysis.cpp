#include "detector/error_analysis.h"

#include <algorithm>

namespace focal::detector {
namespace {

enum class Outcome { TruePositive, Ignored, Localization, Confusion, Background };

Outcome outcome_of(FalsePositiveKind kind) {
    switch (kind) {
        case FalsePositiveKind::Localization: return Outcome::Localization;
        case FalsePositiveKind::Confusion: return Outcome::Confusion;
        default: return Outcome::Background;
    }
}

// Class k's detections, ranked and matched as the metric does (voc_match_class), each false
// positive given its kind.
std::vector<Outcome> class_outcomes(const std::vector<std::vector<GroundTruth>>& truth,
                                    const std::vector<std::vector<Detection>>& detections, int k) {
    std::vector<Outcome> out;
    for (const RankedMatch& m : voc_match_class(truth, detections, k)) {
        if (m.result == MatchResult::TruePositive) out.push_back(Outcome::TruePositive);
        else if (m.result == MatchResult::Ignored) out.push_back(Outcome::Ignored);
        else out.push_back(outcome_of(false_positive_kind(m.box, k, truth[std::size_t(m.image)])));
    }
    return out;
}

// Area AP@.5 of one class's ranked outcomes with the false positives of `removed` left out.
double ap_without(const std::vector<Outcome>& outcomes, int positives, const std::vector<Outcome>& removed) {
    std::vector<int> tp, fp;
    for (Outcome o : outcomes) {
        if (o == Outcome::Ignored || std::find(removed.begin(), removed.end(), o) != removed.end()) continue;
        tp.push_back(o == Outcome::TruePositive);
        fp.push_back(o != Outcome::TruePositive);
    }
    std::vector<double> recall, precision;
    precision_recall_curve(tp, fp, positives, recall, precision);
    return ap_area(recall, precision);
}

}  // namespace

FalsePositiveKind false_positive_kind(const Box& box, int label, const std::vector<GroundTruth>& truth) {
    double same = 0, other = 0;
    for (const GroundTruth& g : truth) {
        const double o = data::iou(box, g.box);
        if (g.label == label) same = std::max(same, o);
        else other = std::max(other, o);
    }
    if (same >= 0.1) return FalsePositiveKind::Localization;
    if (other >= 0.1) return FalsePositiveKind::Confusion;
    return FalsePositiveKind::Background;
}

ErrorBreakdown analyse_errors(const VocEvaluator& evaluator) {
    const auto& truth = evaluator.truth();
    using O = Outcome;
    ErrorBreakdown b;
    int counted = 0;
    for (int k = 0; k < evaluator.num_classes(); ++k) {
        int positives = 0;
        for (const auto& image : truth)
            for (const GroundTruth& g : image) positives += g.label == k && !g.difficult;
        if (positives == 0) continue;  // no AP, as in the metric
        ++counted;
        b.positives += positives;
        const std::vector<Outcome> outcomes = class_outcomes(truth, evaluator.detections(), k);
        b.ap50 += ap_without(outcomes, positives, {});
        b.without_localization += ap_without(outcomes, positives, {O::Localization});
        b.without_confusion += ap_without(outcomes, positives, {O::Localization, O::Confusion});
        b.without_background += ap_without(outcomes, positives, {O::Localization, O::Confusion, O::Background});
        int ranked = 0;  // the first `positives` detections that count (ignored ones do not)
        for (Outcome o : outcomes) {
            if (o == O::Ignored) continue;
            if (ranked++ == positives) break;
            b.top_localization += o == O::Localization;
            b.top_confusion += o == O::Confusion;
            b.top_background += o == O::Background;
        }
    }
    if (counted > 0) {
        b.ap50 /= counted;
        b.without_localization /= counted;
        b.without_confusion /= counted;
        b.without_background /= counted;
    }
    return b;
}

}  // namespace focal::detector
