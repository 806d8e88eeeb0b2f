#include "detector/draw.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#define STB_EASY_FONT_IMPLEMENTATION
#include <stb_easy_font.h>

namespace focal::detector {

namespace {

void fill_rect(data::Image& im, int x1, int y1, int x2, int y2, const std::array<uint8_t, 3>& c) {
    x1 = std::max(x1, 0), y1 = std::max(y1, 0), x2 = std::min(x2, im.width), y2 = std::min(y2, im.height);
    for (int y = y1; y < y2; ++y)
        for (int x = x1; x < x2; ++x)
            for (int k = 0; k < 3; ++k) im.pixels[(size_t(y) * im.width + x) * im.channels + k] = c[k];
}

}  // namespace

std::array<uint8_t, 3> class_colour(int label) {
    static const std::array<uint8_t, 3> palette[] = {{230, 25, 75},  {60, 180, 75},   {255, 225, 25}, {0, 130, 200},
                                                     {245, 130, 48}, {145, 30, 180},  {70, 240, 240}, {240, 50, 230},
                                                     {210, 245, 60}, {250, 190, 212}, {0, 128, 128},  {220, 190, 255},
                                                     {170, 110, 40}, {255, 250, 200}, {128, 0, 0},    {170, 255, 195},
                                                     {128, 128, 0},  {255, 215, 180}, {0, 0, 128},    {128, 128, 128}};
    return palette[static_cast<size_t>(label) % std::size(palette)];
}

void draw_label(data::Image& im, int x, int y, const std::string& text, const std::array<uint8_t, 3>& colour,
                const std::array<uint8_t, 3>& background, int scale) {
    // stb_easy_font emits quads (4 vertices of x, y, z, colour: 16 bytes each) for the text.
    static thread_local std::vector<char> buffer(64 * 1024);
    std::vector<char> text_copy(text.begin(), text.end());
    text_copy.push_back('\0');
    const int quads = stb_easy_font_print(0, 0, text_copy.data(), nullptr, buffer.data(), int(buffer.size()));
    const int width = stb_easy_font_width(text_copy.data()) * scale, height = 8 * scale;
    fill_rect(im, x, y, x + width + 2 * scale, y + height + scale, background);
    for (int q = 0; q < quads; ++q) {
        const float* v = reinterpret_cast<const float*>(buffer.data() + q * 64);
        const int qx1 = int(v[0]), qy1 = int(v[1]), qx2 = int(v[8]), qy2 = int(v[9]);  // corners 0 and 2
        fill_rect(im, x + scale + qx1 * scale, y + scale + qy1 * scale, x + scale + qx2 * scale,
                  y + scale + qy2 * scale, colour);
    }
}

void draw_detections(data::Image& im, const std::vector<Detection>& detections, const std::vector<std::string>& names,
                     float min_score, int thickness) {
    if (thickness <= 0) thickness = std::max(1, std::min(im.width, im.height) / 200);
    const int scale = std::max(1, std::min(im.width, im.height) / 320);
    std::vector<Detection> shown;
    for (const Detection& d : detections)
        if (d.score >= min_score) shown.push_back(d);
    std::sort(shown.begin(), shown.end(), [](const Detection& a, const Detection& b) { return a.score < b.score; });
    for (const Detection& d : shown) {
        const auto c = class_colour(d.label);
        const int x1 = int(std::lround(d.box.x1)), y1 = int(std::lround(d.box.y1));
        const int x2 = int(std::lround(d.box.x2)), y2 = int(std::lround(d.box.y2));
        fill_rect(im, x1, y1, x2, y1 + thickness, c);
        fill_rect(im, x1, y2 - thickness, x2, y2, c);
        fill_rect(im, x1, y1, x1 + thickness, y2, c);
        fill_rect(im, x2 - thickness, y1, x2, y2, c);
        char text[96];
        const std::string& name = d.label < int(names.size()) ? names[d.label] : std::to_string(d.label);
        std::snprintf(text, sizeof text, "%s %.2f", name.c_str(), d.score);
        const int label_y = y1 - 9 * scale >= 0 ? y1 - 9 * scale : y1;
        draw_label(im, x1, label_y, text, {0, 0, 0}, c, scale);
    }
}

}  // namespace focal::detector
