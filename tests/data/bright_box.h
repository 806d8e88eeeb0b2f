// For the transform tests: where a white rectangle drawn on grey ended up.
#pragma once
#include <algorithm>

#include "data/box.h"
#include "data/image.h"

namespace focal::test {

// The box of the pixels brighter than half way between the grey (40) and the white (250):
// those an edge of the rectangle covers more than half.
inline data::Box bright_box(const data::Image& im) {
    data::Box b{1e9f, 1e9f, -1e9f, -1e9f};
    for (int y = 0; y < im.height; ++y)
        for (int x = 0; x < im.width; ++x)
            if (im.at(x, y)[0] > 145)
                b = {std::min(b.x1, float(x)), std::min(b.y1, float(y)), std::max(b.x2, float(x + 1)),
                     std::max(b.y2, float(y + 1))};
    return b;
}

}  // namespace focal::test
