// The loader: batch layout, seeded order, and the same batches whatever the threads do.
#include <doctest/doctest.h>

#include <cmath>
#include <set>

#include "data/loader.h"
#include "data/shapes.h"
#include "engine/error.h"
#include "test_util.h"

using namespace focal::data;

namespace {

// A small shapes set, made once for the whole suite.
const std::string& shapes_dir() {
    static focal::test::TempDir dir;
    static const bool made = [] {
        ShapesOptions o;
        o.images = 45;
        o.size = 64;
        o.seed = 3;
        write_shapes_dataset(dir / "shapes", o);
        return true;
    }();
    (void)made;
    static const std::string path = dir / "shapes";
    return path;
}

Dataset shapes(const std::string& split = "trainval") {
    DatasetOptions o;
    o.split = split;
    return Dataset::open(shapes_dir(), o);
}

std::vector<Batch> epoch(const Dataset& ds, LoaderOptions o, int e) {
    Loader loader(ds, o);
    loader.start_epoch(e);
    std::vector<Batch> out;
    for (Batch b; loader.next(b);) out.push_back(std::move(b));
    return out;
}

bool same(const std::vector<Batch>& a, const std::vector<Batch>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (a[i].images != b[i].images || a[i].boxes != b[i].boxes || a[i].labels != b[i].labels ||
            a[i].ids != b[i].ids)
            return false;
    return true;
}

}  // namespace

TEST_CASE("a batch: (N, 3, H, W) floats, boxes inside, frames that map back") {
    const Dataset ds = shapes();
    LoaderOptions o;
    o.batch_size = 5;
    o.image_size = 96;
    o.augment = false;
    o.shuffle = false;
    o.workers = 0;
    const std::vector<Batch> batches = epoch(ds, o, 0);
    REQUIRE(batches.size() == 8);  // 36 images (train + val of 45), the last batch partial
    const Batch& b = batches[0];
    CHECK(b.n == 5);
    CHECK(b.c == 3);
    CHECK(b.h == 96);
    CHECK(b.w == 96);
    CHECK(b.images.size() == std::size_t(5 * 3 * 96 * 96));
    CHECK(batches.back().n == 1);
    CHECK(b.ids[0] == ds.annotation(0).id);
    for (std::size_t i = 0; i < std::size_t(b.n); ++i) {
        const Annotation& a = ds.annotation(b.indices[i]);
        REQUIRE(b.boxes[i].size() == a.objects.size());
        for (std::size_t k = 0; k < a.objects.size(); ++k) {
            const Box& box = b.boxes[i][k];
            CHECK(box.x1 >= 0);
            CHECK(box.x2 <= 96);
            CHECK(b.labels[i][k] == a.objects[k].label);
            const Box back = b.frames[i].to_original(box);
            CHECK(back.x1 == doctest::Approx(a.objects[k].box.x1).epsilon(1e-4));
            CHECK(back.y2 == doctest::Approx(a.objects[k].box.y2).epsilon(1e-4));
        }
    }
    for (float v : b.images) REQUIRE(std::isfinite(v));
}

TEST_CASE("same seed, same batches: with 0, 1 or 2 workers and any prefetch") {
    const Dataset ds = shapes();
    LoaderOptions o;
    o.batch_size = 4;
    o.image_size = 64;
    o.seed = 11;
    o.workers = 0;
    const std::vector<Batch> reference = epoch(ds, o, 2);
    for (const auto& [workers, prefetch] : {std::pair{1, 1}, std::pair{2, 1}, std::pair{2, 4}, std::pair{3, 2}}) {
        o.workers = workers;
        o.prefetch = prefetch;
        CHECK(same(epoch(ds, o, 2), reference));
    }
    o.workers = 2;
    CHECK_FALSE(same(epoch(ds, o, 3), reference));  // another epoch: another order
    o.seed = 12;
    CHECK_FALSE(same(epoch(ds, o, 2), reference));
}

TEST_CASE("each epoch visits every image once; drop_last drops the ragged end") {
    const Dataset ds = shapes();
    LoaderOptions o;
    o.batch_size = 5;
    o.image_size = 32;
    o.augment = false;
    Loader loader(ds, o);
    CHECK(loader.batches_per_epoch() == 8);
    for (int e = 0; e < 2; ++e) {
        loader.start_epoch(e);
        std::multiset<std::size_t> seen;
        for (Batch b; loader.next(b);) seen.insert(b.indices.begin(), b.indices.end());
        CHECK(seen.size() == ds.size());
        CHECK(std::set<std::size_t>(seen.begin(), seen.end()).size() == ds.size());
    }
    // An epoch abandoned half way, then a new one: no leftovers leak in.
    loader.start_epoch(5);
    Batch b;
    REQUIRE(loader.next(b));
    loader.start_epoch(6);
    int count = 0;
    while (loader.next(b)) ++count;
    CHECK(count == 8);

    o.drop_last = true;
    const std::vector<Batch> batches = epoch(ds, o, 0);
    CHECK(batches.size() == 7);
    for (const Batch& x : batches) CHECK(x.n == 5);
}

TEST_CASE("augmented batches keep every box inside the image and labels in range") {
    const Dataset ds = shapes();
    LoaderOptions o;
    o.batch_size = 9;
    o.image_size = 80;
    o.crop_probability = 1.0f;
    o.keep_difficult = false;
    for (const Batch& b : epoch(ds, o, 1))
        for (int i = 0; i < b.n; ++i)
            for (std::size_t k = 0; k < b.boxes[std::size_t(i)].size(); ++k) {
                const Box& box = b.boxes[std::size_t(i)][k];
                CHECK(box.valid());
                CHECK(box.x1 >= 0);
                CHECK(box.y1 >= 0);
                CHECK(box.x2 <= 80);
                CHECK(box.y2 <= 80);
                CHECK(b.labels[std::size_t(i)][k] >= 0);
                CHECK(b.labels[std::size_t(i)][k] < 5);
                CHECK(b.difficult[std::size_t(i)][k] == 0);
            }
}

TEST_CASE("a worker's error reaches the trainer for the batch it hit, naming the file") {
    focal::test::TempDir dir;
    ShapesOptions so;
    so.images = 10;
    so.size = 48;
    write_shapes_dataset(dir / "s", so);
    DatasetOptions vo;
    vo.split = "train";  // 6 images
    const Dataset ds = Dataset::open(dir / "s", vo);
    std::filesystem::remove(ds.image_path(3));
    LoaderOptions o;
    o.batch_size = 2;
    o.image_size = 32;
    o.shuffle = false;
    o.workers = 2;
    Loader loader(ds, o);
    loader.start_epoch(0);
    Batch b;
    CHECK(loader.next(b));
    CHECK_THROWS_WITH_AS(loader.next(b), doctest::Contains("000003.jpg"), focal::Error);
    CHECK(loader.next(b));  // the loader carries on with the next batch
    CHECK_FALSE(loader.next(b));
    o.batch_size = 0;
    CHECK_THROWS_AS(Loader(ds, o), focal::Error);
}

TEST_CASE("mosaic and mixup batches: seeded, boxes inside, and unlike the plain ones") {
    const Dataset ds = shapes();
    LoaderOptions o;
    o.batch_size = 8;
    o.image_size = 64;
    o.workers = 0;
    const std::vector<Batch> plain = epoch(ds, o, 2);
    o.mosaic_probability = 1.0f;
    o.mixup_probability = 0.5f;
    const std::vector<Batch> mixed = epoch(ds, o, 2);
    o.workers = 2;
    CHECK(same(mixed, epoch(ds, o, 2)));
    CHECK_FALSE(same(mixed, plain));
    REQUIRE(mixed.size() == plain.size());
    std::size_t plain_boxes = 0, mixed_boxes = 0;
    for (std::size_t i = 0; i < mixed.size(); ++i) {
        CHECK(mixed[i].ids == plain[i].ids);  // the order does not change
        for (int k = 0; k < mixed[i].n; ++k) {
            plain_boxes += plain[i].boxes[std::size_t(k)].size();
            mixed_boxes += mixed[i].boxes[std::size_t(k)].size();
            for (const Box& box : mixed[i].boxes[std::size_t(k)]) {
                CHECK(box.valid());
                CHECK(box.x1 >= 0);
                CHECK(box.y2 <= 64);
            }
        }
    }
    CHECK(mixed_boxes > plain_boxes);  // four images' objects in one picture, some of them cut
}

TEST_CASE("multi-scale: each batch's size is drawn by (seed, epoch, batch), the same in every shard") {
    const Dataset ds = shapes();
    LoaderOptions o;
    o.batch_size = 4;
    o.sizes = {32, 48, 64};
    o.workers = 0;
    std::set<int> seen;
    const std::vector<Batch> batches = epoch(ds, o, 1);
    for (std::size_t b = 0; b < batches.size(); ++b) {
        CHECK(batches[b].h == batch_image_size(o, 1, b));
        CHECK(batches[b].w == batches[b].h);
        CHECK(batches[b].images.size() == std::size_t(batches[b].n) * 3 * batches[b].h * batches[b].h);
        seen.insert(batches[b].h);
    }
    CHECK(seen.size() == 3);  // 12 batches over 3 sizes
    o.shards = 2, o.shard = 1;
    const std::vector<Batch> shard = epoch(ds, o, 1);
    for (std::size_t b = 0; b < shard.size(); ++b) CHECK(shard[b].h == batches[b].h);
    o.sizes = {64, 0};
    CHECK_THROWS_WITH_AS(Loader(ds, o), doctest::Contains("multi-scale sizes must be positive, got 0"), focal::Error);
}
