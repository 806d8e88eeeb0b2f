// Augmentations that combine several training images into one, for detectors trained from
// scratch on small data: mosaic (Bochkovskiy et al. 2020, "YOLOv4", sec. 3.3) and mixup for
// detection (Zhang et al. 2019, "Bag of Freebies for Training Object Detection Neural
// Networks", sec. 3.1; first for classification, Zhang et al. 2018). Both make training-only
// samples: the result maps to no single original image, so its frame is the identity and its
// source size unknown (Sample::footprint is then the whole picture).
#pragma once
#include <array>

#include "data/rng.h"
#include "data/transforms.h"

namespace focal::data {

struct MosaicOptions {
    // The window cut from the 2 size x 2 size canvas is size x zoom_out a side, drawn
    // uniformly in [min_zoom_out, max_zoom_out], then resized to size: 2 shows the whole
    // mosaic at half scale, 1 a full-scale part of it around the centre.
    float min_zoom_out = 1.0f;
    float max_zoom_out = 2.0f;
};

// Four samples, each letterboxed to size x size (and augmented on its own), tiled 2 x 2 on a
// 2 size x 2 size canvas: parts[0] top left, [1] top right, [2] bottom left, [3] bottom right.
// A square window containing the canvas centre, that centre between a quarter and three
// quarters of the way across it, is cut and resized to size x size. Boxes follow; those cut
// off by the window are clipped, and dropped by `keep`'s min_visible and min_side (in output
// pixels), as in random_scale_crop.
//
//   +-----------+-----------+
//   | parts[0]  | parts[1]  |     the window (size x z a side, z in [min, max zoom out])
//   |      +----+------+    |     always holds the centre +, so every part can show
//   +------+----+------+----+
//   | parts[2]  | parts[3]  |
//   |      +----+------+    |
//   +-----------+-----------+
Sample mosaic(std::array<Sample, 4> parts, int size, Rng& rng, const MosaicOptions& options = {},
              const ScaleCropOptions& keep = {}, Rgb fill = kMeanRgb);

struct MixupOptions {
    // The first image's weight, uniform in [min_weight, max_weight]; the second's is 1 - it.
    // Close to YOLOv5's Beta(32, 32) draw (mean .5, std .06). Boxes are not weighted: both
    // images' objects are targets in full, as in the YOLO-family trainers.
    float min_weight = 0.4f;
    float max_weight = 0.6f;
};

// Blends `a` and `b` (the same size) pixel by pixel, a x w + b x (1 - w), and keeps both
// sets of boxes.
Sample mixup(Sample a, const Sample& b, Rng& rng, const MixupOptions& options = {});

}  // namespace focal::data
