// `focal convert`: a dataset from one format to another (data/convert.h).
#include <cstdio>

#include "commands.h"
#include "data/convert.h"

namespace focal::cli {

void add_convert(CLI::App& app) {
    auto in = std::make_shared<std::string>();
    auto o = std::make_shared<data::ConvertOptions>();
    o->input.split = "all";
    CLI::App* cmd = app.add_subcommand("convert", "Convert a dataset between VOC, COCO and YOLO (images copied)");
    cmd->add_option("--data", *in, "the dataset to convert (VOC, COCO or YOLO)")->required();
    cmd->add_option("--to", o->to, "the new format")->required()->check(CLI::IsMember({"voc", "coco", "yolo"}));
    cmd->add_option("--out", o->out, "the new dataset's folder (must not exist, unless --force)")->required();
    cmd->add_flag("--force", o->force, "replace --out if it exists (never the input)");
    cmd->add_option("--format", o->input.format, "the input's format (default: from its layout)")
        ->check(CLI::IsMember({"voc", "coco", "yolo"}));
    cmd->add_option("--split", o->input.split, "'all' (every image, each split carried over) or one split")
        ->capture_default_str();
    cmd->add_option("--year", o->input.year, "VOC<year> inside a VOCdevkit folder (default 2007)");
    cmd->add_option("--classes", o->input.classes, "class list (as for inspect; default: the input's own)");
    cmd->add_flag("--skip-bad", o->input.skip_bad,
                  "skip bad entries of the input, with a warning, instead of stopping");
    cmd->callback([=] {
        const data::ConvertResult r = data::convert_dataset(*in, *o);
        for (const std::string& w : r.warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
        std::string splits;
        for (const std::string& s : r.splits) splits += (splits.empty() ? "" : ", ") + s;
        std::printf("%d images, %d objects written to %s as %s (splits: %s)\n", r.images, r.objects, o->out.c_str(),
                    o->to.c_str(), splits.empty() ? "none" : splits.c_str());
    });
}

}  // namespace focal::cli
