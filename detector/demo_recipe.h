// The recipe of `focal demo`: the synthetic set it trains on and how it trains, in one place
// so that the demo, `focal experiments` and the tests all use the same one.
#pragma once
#include <string>

#include "data/shapes.h"
#include "detector/trainer.h"

namespace focal::detector {

// The synthetic shapes set the demo generates (data/shapes.h), `images` of them.
data::ShapesOptions demo_shapes(int images, uint64_t seed);

// Training of the `demo` model on the set in `data` (splits train / val), into run folder `out`.
TrainConfig demo_recipe(const std::string& data, const std::string& out, int epochs, uint64_t seed);

}  // namespace focal::detector
