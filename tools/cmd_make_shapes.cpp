// `focal make-shapes`: writes the synthetic VOC-format shapes dataset (data/shapes.h).
#include <cstdio>

#include "commands.h"
#include "data/shapes.h"
#include "engine/util.h"
#include "flag_checks.h"

namespace focal::cli {

void add_make_shapes(CLI::App& app) {
    auto opt = std::make_shared<data::ShapesOptions>();
    auto out = std::make_shared<std::string>();
    CLI::App* cmd =
        app.add_subcommand("make-shapes", "Write a synthetic VOC-format dataset of shapes on cluttered backgrounds");
    cmd->add_option("--out", *out, "dataset folder to create (or an earlier shapes set to replace)")->required();
    cmd->add_option("--images", opt->images, "number of images")->capture_default_str()->check(positive());
    cmd->add_option("--size", opt->size, "image side in pixels")->capture_default_str()->check(in_range(32, 4096));
    cmd->add_option("--seed", opt->seed, "random seed (same seed, same bytes)")->capture_default_str();
    cmd->add_option("--min-object", opt->min_object, "smallest object extent in pixels")->capture_default_str();
    cmd->add_option("--max-object", opt->max_object,
                    "largest object and distractor extent in pixels (0: half the image); with a larger --size, "
                    "the same objects in more background")
        ->capture_default_str()
        ->check(non_negative());
    cmd->add_option("--max-objects", opt->max_objects, "most objects per image")
        ->capture_default_str()
        ->check(non_negative());
    cmd->add_option("--max-distractors", opt->max_distractors, "most hard negatives per image")
        ->capture_default_str()
        ->check(non_negative());
    cmd->add_option("--quality", opt->jpeg_quality, "JPEG quality")->capture_default_str()->check(in_range(1, 100));
    cmd->add_option("--threads", opt->threads, "writer threads (0 = all cores; the files do not depend on it)")
        ->capture_default_str()
        ->check(non_negative());
    cmd->callback([opt, out] {
        const double start = seconds_now();
        const data::ShapesSummary s = data::write_shapes_dataset(*out, *opt);
        const double seconds = seconds_now() - start;
        std::printf("focal make-shapes: %d images of %dx%d in %s (%.1f s, seed %llu)\n", s.images, opt->size, opt->size,
                    out->c_str(), seconds, static_cast<unsigned long long>(opt->seed));
        std::printf("  splits: train %d, val %d, test %d (trainval %d)\n", s.split_sizes[0], s.split_sizes[1],
                    s.split_sizes[2], s.split_sizes[0] + s.split_sizes[1]);
        std::printf("  objects: %d (%.2f per image; %d images with none; %d difficult, under 8 px)\n", s.objects,
                    double(s.objects) / s.images, s.empty_images, s.difficult);
        for (std::size_t k = 0; k < s.per_class.size(); ++k)
            std::printf("    %-9s %6d\n", data::shape_classes()[k].c_str(), s.per_class[k]);
        std::printf("  distractors (hard negatives, not annotated): %d\n", s.distractors);
    });
}

}  // namespace focal::cli
