// Walks N strided operands over one shape, innermost dim as a tight loop. Used by every
// element-wise CPU kernel; a contiguous operand runs as a flat, vectorisable loop.
#pragma once
#include <array>
#include <cstdint>
#include <vector>

#include "engine/shape.h"

namespace focal::cpu {

template <size_t N>
struct StridedLayout {
    Shape shape;                     // coalesced: adjacent dims merged where all operands allow
    std::array<Strides, N> strides;  // per operand, in elements
};

// Merges dims i and i+1 when every operand steps through them as one dim.
template <size_t N>
StridedLayout<N> coalesce(const Shape& shape, const std::array<const Strides*, N>& strides) {
    StridedLayout<N> out;
    for (size_t d = 0; d < shape.size(); ++d) {
        if (shape[d] == 1) continue;  // size-1 dims contribute nothing
        bool merge = !out.shape.empty();
        for (size_t k = 0; k < N && merge; ++k) merge = out.strides[k].back() == (*strides[k])[d] * shape[d];
        if (merge) {
            out.shape.back() *= shape[d];
            for (size_t k = 0; k < N; ++k) out.strides[k].back() = (*strides[k])[d];
        } else {
            out.shape.push_back(shape[d]);
            for (size_t k = 0; k < N; ++k) out.strides[k].push_back((*strides[k])[d]);
        }
    }
    if (out.shape.empty()) {  // a scalar, or all dims of size 1
        out.shape.push_back(1);
        for (size_t k = 0; k < N; ++k) out.strides[k].push_back(0);
    }
    return out;
}

// Calls inner(offsets, count, inner_strides) for each run of the innermost dim that falls
// in the flat element range [begin, end).
template <size_t N, class Inner>
void strided_for(const StridedLayout<N>& layout, int64_t begin, int64_t end, Inner&& inner) {
    if (begin >= end) return;
    const size_t rank = layout.shape.size();
    const int64_t inner_size = layout.shape[rank - 1];
    std::vector<int64_t> index(rank, 0);
    int64_t rest = begin;
    for (size_t d = rank; d-- > 0;) {
        index[d] = rest % layout.shape[d];
        rest /= layout.shape[d];
    }
    std::array<int64_t, N> offsets{}, inner_strides{};
    for (size_t k = 0; k < N; ++k) {
        inner_strides[k] = layout.strides[k][rank - 1];
        for (size_t d = 0; d < rank; ++d) offsets[k] += index[d] * layout.strides[k][d];
    }
    int64_t position = begin;
    while (position < end) {
        int64_t count = std::min(inner_size - index[rank - 1], end - position);
        inner(offsets, count, inner_strides);
        position += count;
        // advance the multi-index by `count` along the innermost dim, carrying outward
        for (size_t k = 0; k < N; ++k) offsets[k] += count * inner_strides[k];
        index[rank - 1] += count;
        for (size_t d = rank - 1; d > 0 && index[d] == layout.shape[d]; --d) {
            for (size_t k = 0; k < N; ++k)
                offsets[k] += layout.strides[k][d - 1] - layout.shape[d] * layout.strides[k][d];
            index[d] = 0;
            ++index[d - 1];
        }
    }
}

}  // namespace focal::cpu
