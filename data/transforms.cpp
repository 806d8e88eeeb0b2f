#include "data/transforms.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "engine/error.h"

namespace focal::data {

Box Frame::apply(const Box& b) const {
    const float xa = scale_x * b.x1 + offset_x, xb = scale_x * b.x2 + offset_x;
    const float ya = scale_y * b.y1 + offset_y, yb = scale_y * b.y2 + offset_y;
    return {std::min(xa, xb), std::min(ya, yb), std::max(xa, xb), std::max(ya, yb)};
}

Box Frame::to_original(const Box& b) const {
    const float xa = (b.x1 - offset_x) / scale_x, xb = (b.x2 - offset_x) / scale_x;
    const float ya = (b.y1 - offset_y) / scale_y, yb = (b.y2 - offset_y) / scale_y;
    return {std::min(xa, xb), std::min(ya, yb), std::max(xa, xb), std::max(ya, yb)};
}

Box Sample::footprint() const {
    const Box all{0, 0, float(image.width), float(image.height)};
    if (source_width <= 0 || source_height <= 0) return all;
    return intersect(all, frame.apply({0, 0, float(source_width), float(source_height)}));
}

Image cut_window(const Image& src, int x0, int y0, int w, int h, Rgb fill) {
    Image out(w, h, 3);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) std::copy(fill.begin(), fill.end(), out.at(x, y));
    const int xa = std::max(0, x0), xb = std::min(src.width, x0 + w);
    const int ya = std::max(0, y0), yb = std::min(src.height, y0 + h);
    for (int y = ya; y < yb; ++y)
        std::copy(src.at(xa, y), src.at(xa, y) + 3 * std::max(0, xb - xa), out.at(xa - x0, y - y0));
    return out;
}

namespace {

// Moves boxes by (-x0, -y0) into a w x h window, clipping; drops those cut off too much.
// Returns how many survive, and with `commit` applies the result to the sample.
int shift_boxes(Sample& s, int x0, int y0, int w, int h, const ScaleCropOptions& o, bool commit) {
    std::vector<Box> boxes;
    std::vector<int> labels;
    std::vector<std::uint8_t> difficult;
    for (std::size_t i = 0; i < s.boxes.size(); ++i) {
        const Box& b = s.boxes[i];
        const Box moved{b.x1 - x0, b.y1 - y0, b.x2 - x0, b.y2 - y0};
        const Box kept = clip(moved, float(w), float(h));
        if (!kept.valid() || kept.area() < o.min_visible * b.area() || kept.width() < o.min_side ||
            kept.height() < o.min_side)
            continue;
        boxes.push_back(kept);
        labels.push_back(s.labels[i]);
        difficult.push_back(s.difficult[i]);
    }
    const int kept = int(boxes.size());
    if (commit) {
        s.boxes = std::move(boxes);
        s.labels = std::move(labels);
        s.difficult = std::move(difficult);
    }
    return kept;
}

void check_sample(const Sample& s, const char* op) {
    check(!s.image.empty() && s.image.channels == 3, "[", op, "] expects a non-empty RGB image");
    check(s.labels.size() == s.boxes.size() && s.difficult.size() == s.boxes.size(), "[", op, "] ", s.boxes.size(),
          " boxes but ", s.labels.size(), " labels and ", s.difficult.size(), " difficult flags");
}

}  // namespace

void letterbox(Sample& s, int size, Rgb fill) {
    check_sample(s, "letterbox");
    check(size > 0, "[letterbox] size must be positive, got ", size);
    const int w = s.image.width, h = s.image.height;
    const double scale = double(size) / std::max(w, h);
    const int nw = std::clamp(int(std::lround(w * scale)), 1, size);
    const int nh = std::clamp(int(std::lround(h * scale)), 1, size);
    const float sx = float(nw) / w, sy = float(nh) / h;  // exact per-axis ratios after rounding
    const int pad_x = (size - nw) / 2, pad_y = (size - nh) / 2;
    const Image resized = resize(s.image, nw, nh);
    s.image = cut_window(resized, -pad_x, -pad_y, size, size, fill);
    // The clip only absorbs rounding (x2 = W may come out as size + 1e-5).
    for (Box& b : s.boxes)
        b = clip({b.x1 * sx + pad_x, b.y1 * sy + pad_y, b.x2 * sx + pad_x, b.y2 * sy + pad_y}, float(size),
                 float(size));
    s.frame = {s.frame.scale_x * sx, s.frame.offset_x * sx + pad_x, s.frame.scale_y * sy,
               s.frame.offset_y * sy + pad_y};
}

void hflip(Sample& s) {
    check_sample(s, "hflip");
    Image& im = s.image;
    for (int y = 0; y < im.height; ++y)
        for (int a = 0, b = im.width - 1; a < b; ++a, --b) std::swap_ranges(im.at(a, y), im.at(a, y) + 3, im.at(b, y));
    const float w = float(im.width);
    for (Box& box : s.boxes) box = {w - box.x2, box.y1, w - box.x1, box.y2};
    s.frame.scale_x = -s.frame.scale_x;
    s.frame.offset_x = w - s.frame.offset_x;
}

void random_scale_crop(Sample& s, Rng& rng, const ScaleCropOptions& o, Rgb fill) {
    check_sample(s, "random_scale_crop");
    check(o.min_zoom > 0 && o.min_zoom <= o.max_zoom, "[random_scale_crop] zoom range [", o.min_zoom, ", ", o.max_zoom,
          "] is not a range of positive factors");
    const int w = s.image.width, h = s.image.height;
    for (int attempt = 0; attempt < std::max(1, o.attempts); ++attempt) {
        const double zoom = std::exp(rng.uniform(std::log(o.min_zoom), std::log(o.max_zoom)));
        const int cw = std::max(1, int(std::lround(w / zoom)));
        const int ch = std::max(1, int(std::lround(h / zoom)));
        // The window lies inside the image when zooming in and around it when zooming out.
        const int x0 = rng.uniform_int(std::min(0, w - cw), std::max(0, w - cw));
        const int y0 = rng.uniform_int(std::min(0, h - ch), std::max(0, h - ch));
        if (!s.boxes.empty() && shift_boxes(s, x0, y0, cw, ch, o, false) == 0) continue;
        shift_boxes(s, x0, y0, cw, ch, o, true);
        s.image = cut_window(s.image, x0, y0, cw, ch, fill);
        s.frame.offset_x -= float(x0);
        s.frame.offset_y -= float(y0);
        return;
    }
}

void color_jitter(Sample& s, Rng& rng, const JitterOptions& o) {
    check_sample(s, "color_jitter");
    const float b = float(rng.uniform(1 - o.brightness, 1 + o.brightness));
    const float c = float(rng.uniform(1 - o.contrast, 1 + o.contrast));
    const float sat = float(rng.uniform(1 - o.saturation, 1 + o.saturation));
    const double theta = rng.uniform(-o.hue, o.hue) * 2 * std::numbers::pi;

    // Hue: rotate about the grey axis a = (1,1,1)/sqrt(3) (Rodrigues). Saturation: blend
    // with the luma. Contrast: blend with the mean luma. Brightness: scale. All linear, so one
    // 3x3 matrix and an offset; with no jitter the matrix is exactly the identity.
    const double cs = std::cos(theta), sn = std::sin(theta) / std::sqrt(3.0), k = (1 - cs) / 3;
    const double hue[3][3] = {{cs + k, k - sn, k + sn}, {k + sn, cs + k, k - sn}, {k - sn, k + sn, cs + k}};
    static constexpr double luma_weights[3] = {0.299, 0.587, 0.114};
    float m[3][3];
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) {
            double v = 0;
            for (int l = 0; l < 3; ++l) v += (sat * (i == l) + (1 - sat) * luma_weights[l]) * hue[l][j];
            m[i][j] = float(v * c * b);
        }
    // The pixels that hold the original image (edge pixels half padding included).
    const Box area = s.footprint();
    const int xa = std::max(0, int(std::floor(area.x1))), xb = std::min(s.image.width, int(std::ceil(area.x2)));
    const int ya = std::max(0, int(std::floor(area.y1))), yb = std::min(s.image.height, int(std::ceil(area.y2)));
    double luma = 0;
    for (int y = ya; y < yb; ++y)
        for (int x = xa; x < xb; ++x) {
            const std::uint8_t* px = s.image.at(x, y);
            luma += 0.299 * px[0] + 0.587 * px[1] + 0.114 * px[2];
        }
    const double n = std::max(1.0, double(xb - xa) * double(yb - ya));
    const float offset = float((1 - c) * b * luma / n);
    for (int y = ya; y < yb; ++y)
        for (int x = xa; x < xb; ++x) {
            std::uint8_t* px = s.image.at(x, y);
            const float r = px[0], g = px[1], bl = px[2];
            for (int i = 0; i < 3; ++i)
                px[i] =
                    std::uint8_t(std::clamp(m[i][0] * r + m[i][1] * g + m[i][2] * bl + offset + 0.5f, 0.0f, 255.0f));
        }
}

void normalize_to_chw(const Image& image, float* out, const std::array<float, 3>& mean,
                      const std::array<float, 3>& std) {
    check(image.channels == 3, "[normalize] expects RGB, got ", image.channels, " channels");
    const std::size_t plane = std::size_t(image.width) * image.height;
    for (int c = 0; c < 3; ++c) {
        const float scale = 1.0f / (255.0f * std[c]), shift = mean[c] / std[c];
        float* dst = out + c * plane;
        for (std::size_t p = 0; p < plane; ++p) dst[p] = image.pixels[3 * p + c] * scale - shift;
    }
}

}  // namespace focal::data
