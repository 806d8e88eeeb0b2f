// Online hard example mining: the baseline the focal loss replaces (Lin et al. 2017,
// sec. 5.1, Table 1d). As in SSD (Liu et al. 2016, sec. 2.2, "hard negative mining"), every
// positive anchor is kept, and of the negatives only the highest-loss ones, at most
// ratio x #positives of them; the loss is BCE over the kept anchors.
#pragma once
#include "losses/loss.h"

namespace focal::losses {

// Picks the anchors OHEM trains on. All inputs share one shape: (N, A) selects per image
// (each row separately), (A,) over all anchors.
//   anchor_loss  float32: each anchor's loss (summed over classes)
//   positive     float32 0/1: anchors with an object
//   valid        float32 0/1: ignored anchors (0) are never picked
// Per row: all valid positives, plus the n = min(#valid negatives, max(floor(ratio * #pos),
// min_negatives)) valid negatives of highest loss; equal losses: the lower anchor index
// first (a NaN loss counts as the highest). Returns a float32 0/1 mask of the same shape.
Tensor ohem_select(const Tensor& anchor_loss, const Tensor& positive, const Tensor& valid, float ratio = 3.0f,
                   int64_t min_negatives = 0);

}  // namespace focal::losses
