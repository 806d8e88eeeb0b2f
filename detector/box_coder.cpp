#include "detector/box_coder.h"

#include <algorithm>
#include <limits>

namespace focal::detector {

std::array<float, 4> BoxCoder::encode(const Box& a, const Box& t) const {
    const float aw = a.width(), ah = a.height(), tw = t.width(), th = t.height();
    const float ax = a.x1 + 0.5f * aw, ay = a.y1 + 0.5f * ah, tx = t.x1 + 0.5f * tw, ty = t.y1 + 0.5f * th;
    return {weights[0] * (tx - ax) / aw, weights[1] * (ty - ay) / ah, weights[2] * std::log(tw / aw),
            weights[3] * std::log(th / ah)};
}

Box BoxCoder::decode(const Box& a, const float* d) const {
    const float aw = a.width(), ah = a.height();
    const float ax = a.x1 + 0.5f * aw, ay = a.y1 + 0.5f * ah;
    const float cx = ax + d[0] / weights[0] * aw, cy = ay + d[1] / weights[1] * ah;
    const float w = aw * std::exp(std::min(d[2] / weights[2], clamp));
    const float h = ah * std::exp(std::min(d[3] / weights[3], clamp));
    return {cx - 0.5f * w, cy - 0.5f * h, cx + 0.5f * w, cy + 0.5f * h};
}

Tensor BoxCoder::decode(const Tensor& anchors, const Tensor& deltas) const {
    // anchors (A, 4) -> widths, heights, centres (A, 1); deltas (..., A, 4) sliced per coordinate.
    Tensor aw = anchors.narrow(1, 2, 1) - anchors.narrow(1, 0, 1);
    Tensor ah = anchors.narrow(1, 3, 1) - anchors.narrow(1, 1, 1);
    Tensor ax = anchors.narrow(1, 0, 1) + aw * 0.5f, ay = anchors.narrow(1, 1, 1) + ah * 0.5f;
    const int64_t last = deltas.dim() - 1;
    auto clamp_max = [this](const Tensor& t) {
        return focal::clamp(t, -std::numeric_limits<float>::infinity(), clamp);
    };
    Tensor cx = ax + deltas.narrow(last, 0, 1) * (1.0f / weights[0]) * aw;
    Tensor cy = ay + deltas.narrow(last, 1, 1) * (1.0f / weights[1]) * ah;
    Tensor w = aw * exp(clamp_max(deltas.narrow(last, 2, 1) * (1.0f / weights[2])));
    Tensor h = ah * exp(clamp_max(deltas.narrow(last, 3, 1) * (1.0f / weights[3])));
    return cat({cx - w * 0.5f, cy - h * 0.5f, cx + w * 0.5f, cy + h * 0.5f}, last);
}

}  // namespace focal::detector
