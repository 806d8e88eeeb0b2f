// Writes the synthetic dataset to disk in VOC layout, images in parallel.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "data/shapes.h"
#include "engine/error.h"

namespace focal::data {
namespace fs = std::filesystem;

namespace {

constexpr const char* kMarker = "focal-shapes.txt";

void write_text(const fs::path& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary);
    out << text;
    check(bool(out.flush()), "[shapes] cannot write ", path.string());
}

std::string image_id(int i) {
    char id[16];
    std::snprintf(id, sizeof id, "%06d", i);
    return id;
}

// Makes `dir` ready: created if absent; an earlier shapes set there is cleared; anything
// else in it is left alone and refused.
void prepare_folder(const fs::path& dir) {
    std::error_code ec;
    if (fs::exists(dir) && !fs::is_empty(dir)) {
        check(fs::exists(dir / kMarker), "[shapes] ", dir.string(), " is not empty and holds no ", kMarker,
              " (not an earlier shapes set); pick an empty or new folder");
        for (const char* sub : {"JPEGImages", "Annotations", "ImageSets"}) fs::remove_all(dir / sub, ec);
        check(!ec, "[shapes] cannot clear ", dir.string(), ": ", ec.message());
    }
    for (const char* sub : {"JPEGImages", "Annotations", "ImageSets/Main"}) {
        fs::create_directories(dir / sub, ec);
        check(!ec, "[shapes] cannot create ", (dir / sub).string(), ": ", ec.message());
    }
}

}  // namespace

std::string shapes_marker_text(const ShapesOptions& o) {
    return "generator focal make-shapes 1\nimages " + std::to_string(o.images) + "\nsize " + std::to_string(o.size) +
           "\nseed " + std::to_string(o.seed) + "\nmin_object " + std::to_string(o.min_object) + "\n" +
           (o.max_object > 0 ? "max_object " + std::to_string(o.max_object) + "\n" : "");
}

ShapesOptions parse_shapes_marker(std::string_view text, const std::string& name) {
    ShapesOptions o;
    constexpr int kKeys = 5, kRequired = 4;  // max_object, the fifth, is optional
    bool seen[kKeys] = {false, false, false, false, false};
    const char* keys[kKeys] = {"images", "size", "seed", "min_object", "max_object"};
    int number = 0;
    for (std::size_t start = 0; start < text.size();) {
        const std::size_t newline = std::min(text.find('\n', start), text.size());
        std::string_view line = text.substr(start, newline - start);
        start = newline + 1;
        ++number;
        if (line.ends_with('\r')) line.remove_suffix(1);
        if (number == 1) {
            check(line == "generator focal make-shapes 1", "[shapes] ", name,
                  " line 1: not a focal shapes marker (expected 'generator focal make-shapes 1')");
            continue;
        }
        if (line.empty()) continue;
        const std::size_t space = line.find(' ');
        const std::string_view key = line.substr(0, space);
        const std::string_view digits = space == std::string_view::npos ? std::string_view() : line.substr(space + 1);
        int k = 0;
        while (k < kKeys && key != keys[k]) ++k;
        check(space != std::string_view::npos && k < kKeys, "[shapes] ", name, " line ", number,
              ": expected 'images N', 'size N', 'seed N', 'min_object N' or 'max_object N'");
        check(!seen[k], "[shapes] ", name, " line ", number, ": ", keys[k], " is given twice");
        seen[k] = true;
        // Decimal digits only, at most 20 of them (uint64), no sign, no spaces.
        std::uint64_t value = 0;
        bool ok = !digits.empty() && digits.size() <= 20;
        for (char ch : digits) {
            ok = ok && ch >= '0' && ch <= '9';
            const std::uint64_t d = std::uint64_t(ch - '0');
            ok = ok && value <= (UINT64_MAX - d) / 10;
            if (ok) value = value * 10 + d;
        }
        check(ok && (k == 2 || value <= 1000000000), "[shapes] ", name, " line ", number, ": ", keys[k],
              " must be a whole number", k == 2 ? "" : " up to 10^9");
        if (k == 0) o.images = int(value);
        if (k == 1) o.size = int(value);
        if (k == 2) o.seed = value;
        if (k == 3) o.min_object = int(value);
        if (k == 4) o.max_object = int(value);
    }
    check(number >= 1, "[shapes] ", name, ": empty file");
    for (int k = 0; k < kRequired; ++k) check(seen[k], "[shapes] ", name, ": no '", keys[k], "' line");
    check(o.images >= 1, "[shapes] ", name, ": images must be at least 1");
    try {
        check_scene_options(o);
    } catch (const Error& e) {
        fail(e.what(), " (", name, ")");
    }
    return o;
}

ShapesSummary write_shapes_dataset(const std::string& dir_name, const ShapesOptions& o) {
    check(o.images > 0, "[shapes] --images must be positive, got ", o.images);
    check(o.jpeg_quality >= 1 && o.jpeg_quality <= 100, "[shapes] JPEG quality must be 1..100, got ", o.jpeg_quality);
    make_shape_scene(o, 0);  // checks the options before any file is touched
    const fs::path dir(dir_name);
    prepare_folder(dir);

    // Each image is written by whichever thread takes it; the counts are kept per image and
    // summed afterwards, so nothing depends on the thread count.
    std::vector<Annotation> annotations(std::size_t(o.images));
    std::vector<int> distractors(std::size_t(o.images));
    std::atomic<int> next{0};
    std::mutex error_mutex;
    std::exception_ptr error;
    const auto work = [&] {
        for (int i = next++; i < o.images; i = next++) {
            try {
                Scene scene = make_shape_scene(o, i);
                const std::string id = image_id(i);
                scene.annotation.id = id;
                scene.annotation.filename = id + ".jpg";
                save_jpeg(scene.image, (dir / "JPEGImages" / (id + ".jpg")).string(), o.jpeg_quality);
                write_text(dir / "Annotations" / (id + ".xml"), write_voc_annotation(scene.annotation, "shapes"));
                distractors[std::size_t(i)] = scene.distractors;
                annotations[std::size_t(i)] = std::move(scene.annotation);
            } catch (...) {
                std::lock_guard lock(error_mutex);
                if (!error) error = std::current_exception();
                next = o.images;
            }
        }
    };
    const int threads = o.threads > 0 ? o.threads : int(std::max(1u, std::thread::hardware_concurrency()));
    std::vector<std::thread> pool;
    for (int t = 1; t < std::min(threads, o.images); ++t) pool.emplace_back(work);
    work();
    for (std::thread& t : pool) t.join();
    if (error) std::rethrow_exception(error);

    const int n_test = o.images / 5, n_val = o.images / 5, n_train = o.images - n_val - n_test;
    std::string train, val, test;
    for (int i = 0; i < o.images; ++i) (i < n_train ? train : i < n_train + n_val ? val : test) += image_id(i) + "\n";
    const fs::path main = dir / "ImageSets" / "Main";
    write_text(main / "train.txt", train);
    write_text(main / "val.txt", val);
    write_text(main / "trainval.txt", train + val);
    write_text(main / "test.txt", test);
    std::string classes;
    for (const std::string& name : shape_classes()) classes += name + "\n";
    write_text(dir / "classes.txt", classes);
    write_text(dir / kMarker, shapes_marker_text(o));

    ShapesSummary summary;
    summary.images = o.images;
    summary.per_class.assign(shape_classes().size(), 0);
    summary.split_sizes = {n_train, n_val, n_test};
    for (std::size_t i = 0; i < annotations.size(); ++i) {
        summary.distractors += distractors[i];
        summary.empty_images += annotations[i].objects.empty();
        for (const Object& object : annotations[i].objects) {
            ++summary.objects;
            ++summary.per_class[std::size_t(object.label)];
            summary.difficult += object.difficult;
        }
    }
    return summary;
}

}  // namespace focal::data
