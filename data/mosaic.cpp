#include "data/mosaic.h"

#include <algorithm>
#include <cmath>

#include "engine/error.h"

namespace focal::data {

Sample mosaic(std::array<Sample, 4> parts, int size, Rng& rng, const MosaicOptions& o, const ScaleCropOptions& keep,
              Rgb fill) {
    check(size > 0, "[mosaic] size must be positive, got ", size);
    check(o.min_zoom_out > 0 && o.min_zoom_out <= o.max_zoom_out, "[mosaic] zoom-out range [", o.min_zoom_out, ", ",
          o.max_zoom_out, "] is not a range of positive factors");
    for (std::size_t k = 0; k < parts.size(); ++k) {
        const Sample& p = parts[k];
        check(p.image.width == size && p.image.height == size && p.image.channels == 3, "[mosaic] part ", k, " is ",
              p.image.width, "x", p.image.height, "x", p.image.channels, ", not a letterboxed ", size, "x", size,
              " RGB image");
        check(p.labels.size() == p.boxes.size() && p.difficult.size() == p.boxes.size(), "[mosaic] part ", k, " has ",
              p.boxes.size(), " boxes but ", p.labels.size(), " labels and ", p.difficult.size(), " difficult flags");
    }
    // The canvas: part k at (size x (k % 2), size x (k / 2)).
    const int side = 2 * size;
    Image canvas(side, side, 3);
    for (std::size_t k = 0; k < parts.size(); ++k) {
        const int left = size * int(k % 2), top = size * int(k / 2);
        for (int y = 0; y < size; ++y)
            std::copy(parts[k].image.at(0, y), parts[k].image.at(0, y) + 3 * size, canvas.at(left, top + y));
    }
    // The window: `cut` pixels a side, the canvas centre at a fraction (u, v) of it.
    const double zoom_out = rng.uniform(o.min_zoom_out, o.max_zoom_out);
    const int cut = std::max(1, int(std::lround(size * zoom_out)));
    const int x0 = size - int(std::lround(cut * rng.uniform(0.25, 0.75)));
    const int y0 = size - int(std::lround(cut * rng.uniform(0.25, 0.75)));

    Sample out;
    out.image = resize(cut_window(canvas, x0, y0, cut, cut, fill), size, size);
    const float scale = float(size) / float(cut);
    for (std::size_t k = 0; k < parts.size(); ++k) {
        const float left = float(size * int(k % 2) - x0), top = float(size * int(k / 2) - y0);
        const Sample& p = parts[k];
        for (std::size_t i = 0; i < p.boxes.size(); ++i) {
            const Box& b = p.boxes[i];
            const Box moved{(b.x1 + left) * scale, (b.y1 + top) * scale, (b.x2 + left) * scale, (b.y2 + top) * scale};
            const Box kept = clip(moved, float(size), float(size));
            if (!kept.valid() || kept.area() < keep.min_visible * moved.area() || kept.width() < keep.min_side ||
                kept.height() < keep.min_side)
                continue;
            out.boxes.push_back(kept);
            out.labels.push_back(p.labels[i]);
            out.difficult.push_back(p.difficult[i]);
        }
    }
    return out;  // identity frame, unknown source size: a picture of no single image
}

Sample mixup(Sample a, const Sample& b, Rng& rng, const MixupOptions& o) {
    check(a.image.width == b.image.width && a.image.height == b.image.height && a.image.channels == 3 &&
              b.image.channels == 3,
          "[mixup] the images must be RGB of one size, got ", a.image.width, "x", a.image.height, "x", a.image.channels,
          " and ", b.image.width, "x", b.image.height, "x", b.image.channels);
    check(0 <= o.min_weight && o.min_weight <= o.max_weight && o.max_weight <= 1, "[mixup] weight range [",
          o.min_weight, ", ", o.max_weight, "] is not inside [0, 1]");
    const float w = float(rng.uniform(o.min_weight, o.max_weight));
    for (std::size_t i = 0; i < a.image.pixels.size(); ++i)
        a.image.pixels[i] =
            std::uint8_t(std::clamp(w * a.image.pixels[i] + (1 - w) * b.image.pixels[i] + 0.5f, 0.0f, 255.0f));
    a.boxes.insert(a.boxes.end(), b.boxes.begin(), b.boxes.end());
    a.labels.insert(a.labels.end(), b.labels.begin(), b.labels.end());
    a.difficult.insert(a.difficult.end(), b.difficult.begin(), b.difficult.end());
    a.frame = {};
    a.source_width = a.source_height = 0;
    return a;
}

}  // namespace focal::data
