// What the loader benchmarks share: pulling images through a fresh data::Loader.
#pragma once
#include "data/loader.h"

namespace focal::bench {

// Pulls the first `images` images of epoch 0 through a fresh loader (start-up included).
inline void run_loader(const data::Dataset& ds, const data::LoaderOptions& o, int images) {
    data::Loader loader(ds, o);
    loader.start_epoch(0);
    data::Batch batch;
    for (int b = 0; b < images / o.batch_size && loader.next(batch); ++b) {}
}

}  // namespace focal::bench
