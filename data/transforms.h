// Transforms that move boxes with the pixels. Each works on a Sample (image + boxes) and
// records in sample.frame how original-image coordinates map to the current ones, so
// detections on the transformed image can be mapped back (Frame::to_original).
#pragma once
#include <array>
#include <cstdint>
#include <vector>

#include "data/box.h"
#include "data/image.h"
#include "data/rng.h"

namespace focal::data {

// x_now = scale_x * x_original + offset_x (a flip makes scale_x negative); same for y.
struct Frame {
    float scale_x = 1, offset_x = 0, scale_y = 1, offset_y = 0;
    Box apply(const Box& b) const;        // original -> current
    Box to_original(const Box& b) const;  // current -> original
};

struct Sample {
    Image image;
    std::vector<Box> boxes;
    std::vector<int> labels;
    std::vector<std::uint8_t> difficult;  // parallel to boxes
    Frame frame;
    int source_width = 0, source_height = 0;  // the original image's size; 0 = unknown

    // Where the original image's pixels lie now (padding excluded); the whole image when the
    // source size is unknown.
    Box footprint() const;
};

using Rgb = std::array<std::uint8_t, 3>;
// Padding colour: the ImageNet mean, which normalises to 0.
constexpr Rgb kMeanRgb = {124, 116, 104};

// Scales the longer side to `size` (aspect kept), centres it on a size x size canvas of
// `fill`. Boxes scale by the exact per-axis ratio of the rounded new size.
void letterbox(Sample& s, int size, Rgb fill = kMeanRgb);

// Copies the part of `src` that falls in the window [x0, x0 + w) x [y0, y0 + h) (which may
// reach outside `src`) onto a w x h canvas of `fill`. Pixels only; boxes are the caller's.
Image cut_window(const Image& src, int x0, int y0, int w, int h, Rgb fill = kMeanRgb);

// Mirrors left-right: a box [x1, x2) becomes [W - x2, W - x1).
void hflip(Sample& s);

struct ScaleCropOptions {
    float min_zoom = 0.5f;     // < 1 zooms out (the image shrinks inside a padded window)
    float max_zoom = 2.0f;     // > 1 zooms in (a window cut from the image)
    float min_visible = 0.4f;  // a clipped box keeps at least this fraction of its area...
    float min_side = 2.0f;     // ...and this many pixels a side, else it is dropped
    int attempts = 10;         // windows tried to keep at least one object
};
// Cuts a window of (W, H) / zoom at a random place (zoom log-uniform); boxes are clipped to
// it and those too cut off dropped. If no window in `attempts` keeps an object of an image
// that had some, the sample is left as it was.
void random_scale_crop(Sample& s, Rng& rng, const ScaleCropOptions& options = {}, Rgb fill = kMeanRgb);

struct JitterOptions {
    float brightness = 0.25f;  // factors drawn from [1 - b, 1 + b]
    float contrast = 0.25f;
    float saturation = 0.25f;
    float hue = 0.03f;  // rotation of the chroma plane, in turns
};
// Photometric jitter (boxes untouched): one 3x3 colour matrix per sample, applied to the
// footprint only, so padding keeps its colour.
void color_jitter(Sample& s, Rng& rng, const JitterOptions& options = {});

// (H, W, 3) bytes -> (3, H, W) floats (x / 255 - mean) / std, written at `out`.
constexpr std::array<float, 3> kImageNetMean = {0.485f, 0.456f, 0.406f};
constexpr std::array<float, 3> kImageNetStd = {0.229f, 0.224f, 0.225f};
void normalize_to_chw(const Image& image, float* out, const std::array<float, 3>& mean = kImageNetMean,
                      const std::array<float, 3>& std = kImageNetStd);

}  // namespace focal::data
