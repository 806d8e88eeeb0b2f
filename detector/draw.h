// Pictures of detections: boxes in their class colour with "name score" labels, drawn on
// RGB images (text from stb_easy_font), for `focal detect` and the training snapshots.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "data/image.h"
#include "detector/voc_metric.h"

namespace focal::detector {

// Draws the detections scoring at least min_score (best last, so it lands on top).
// thickness 0 picks one from the image size.
void draw_detections(data::Image& image, const std::vector<Detection>& detections,
                     const std::vector<std::string>& class_names, float min_score = 0.3f, int thickness = 0);

// Text at (x, y) (top-left), in `colour` on a filled `background` tab, scale 1 = 7 px tall.
void draw_label(data::Image& image, int x, int y, const std::string& text, const std::array<uint8_t, 3>& colour,
                const std::array<uint8_t, 3>& background, int scale = 1);

std::array<uint8_t, 3> class_colour(int label);

}  // namespace focal::detector
