// Box <-> delta encoding (Girshick et al. 2014, appendix C; RetinaNet uses it unchanged):
//   dx = wx (gx - ax) / aw,  dy = wy (gy - ay) / ah,  dw = ww log(gw / aw),  dh = wh log(gh / ah)
// with (x, y) box centres and (w, h) sizes. Decoding clamps dw, dh at log(1000 / 16) so a
// wild prediction cannot overflow exp().
#pragma once
#include <array>
#include <cmath>

#include "data/box.h"
#include "engine/engine.h"

namespace focal::detector {

using data::Box;

struct BoxCoder {
    std::array<float, 4> weights{1.0f, 1.0f, 1.0f, 1.0f};
    float clamp = std::log(1000.0f / 16.0f);

    std::array<float, 4> encode(const Box& anchor, const Box& target) const;
    Box decode(const Box& anchor, const float* deltas) const;
    // Differentiable decoding on tensors: anchors (A, 4), deltas (..., A, 4) -> boxes (..., A, 4).
    Tensor decode(const Tensor& anchors, const Tensor& deltas) const;
};

}  // namespace focal::detector
