// bench_loader: images per second through the data loader on the VOC 2007 sample: JPEG
// decode alone (the floor of the work), then decode + augmentation (colour jitter, scale-crop,
// flip, letterbox to 256) + normalisation with 0 (inline), 1 and 2 worker threads, and the
// evaluation pipeline (letterbox only). The trainer side does nothing, so the figure is
// what the loader can feed.
// First it checks that 1 and 2 workers give identical batches, and that a batch holds what
// prepare_sample + normalize_to_chw give for its images.
// Usage: bench_loader [VOCdevkit] [images]   (default ../shared/data/VOCdevkit, 480 images)
// Last line: JSON with each case's images/s.
#include <filesystem>
#include <nlohmann/json.hpp>

#include "bench_loader_run.h"
#include "bench_util.h"
#include "data/loader.h"

using namespace focal;
using namespace focal::data;

namespace {

// Best of `repeats` timed runs: on a shared machine noise only adds time.
template <class Fn>
double best_seconds(Fn&& fn, int repeats) {
    double best = 1e30;
    for (int i = 0; i < repeats; ++i) {
        const double start = bench::now_seconds();
        fn();
        best = std::min(best, bench::now_seconds() - start);
    }
    return best;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string devkit = argc > 1 ? argv[1] : FOCAL_SOURCE_DIR "/../shared/data/VOCdevkit";
    const int images = argc > 2 ? std::atoi(argv[2]) : 480;
    if (!std::filesystem::is_directory(devkit)) {
        std::fprintf(stderr, "bench_loader: no VOC data at %s (pass a VOCdevkit folder)\n", devkit.c_str());
        return 2;
    }
    DatasetOptions vo;
    vo.split = "trainval";
    const Dataset ds = Dataset::open(devkit, vo);
    bench::require(int(ds.size()) >= images, "the split holds enough images");

    LoaderOptions o;
    o.batch_size = 8;
    o.image_size = 256;
    o.seed = 1;
    {
        // Checks: thread count does not change the batches; a batch is what its parts say.
        LoaderOptions one = o, two = o;
        one.workers = 1;
        two.workers = 2;
        Loader a(ds, one), b(ds, two);
        a.start_epoch(0);
        b.start_epoch(0);
        Batch x, y;
        for (int i = 0; i < 4; ++i) {
            bench::require(a.next(x) && b.next(y), "batches available");
            bench::require(x.images == y.images && x.boxes == y.boxes && x.ids == y.ids, "1 and 2 workers agree");
        }
        Rng rng(mix_seed(o.seed, 0, x.indices[0]));
        const Sample s = prepare_sample(ds, x.indices[0], o, rng);
        std::vector<float> chw(std::size_t(3) * 256 * 256);
        normalize_to_chw(s.image, chw.data());
        bench::require(std::equal(chw.begin(), chw.end(), x.images.begin()), "batch image 0 = its sample");
        bench::require(s.boxes == x.boxes[0], "batch boxes 0 = its sample's");
    }

    nlohmann::json results = nlohmann::json::array();
    std::printf("VOC 2007 sample, %d images (%s), output 3x256x256, batch 8\n", images, ds.root().c_str());
    std::printf("%-34s %8s %10s\n", "case", "workers", "images/s");
    const auto report = [&](const char* name, int workers, double seconds) {
        const double rate = images / seconds;
        std::printf("%-34s %8d %10.1f\n", name, workers, rate);
        results.push_back({{"case", name}, {"workers", workers}, {"images_per_s", rate}});
    };

    const auto decode_all = [&] {
        for (int i = 0; i < images; ++i) ds.load_image(std::size_t(i));
    };
    const double decode = best_seconds(decode_all, 3);
    report("decode only (stb_image)", 0, decode);
    for (int workers : {0, 1, 2}) {
        LoaderOptions train = o;
        train.workers = workers;
        report("decode + augment + normalise", workers, best_seconds([&] { bench::run_loader(ds, train, images); }, 3));
    }
    for (int workers : {1, 2}) {
        LoaderOptions eval = o;
        eval.augment = false;
        eval.shuffle = false;
        eval.workers = workers;
        report("decode + letterbox + normalise", workers,
               best_seconds([&] { bench::run_loader(ds, eval, images); }, 3));
    }
    const nlohmann::json summary = {{"bench", "loader"}, {"images", images}, {"size", 256}, {"cases", results}};
    std::printf("%s\n", summary.dump().c_str());
    return 0;
}
