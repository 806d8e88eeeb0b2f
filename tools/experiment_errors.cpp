// Where each main run's errors are (report section 3): the diagnosis of Hoiem et al. 2012
// (detector/error_analysis.h) on the test split. It separates what focal loss is for (false
// positives on the background, the flood of easy and the few hard negatives) from what it
// does not address directly (the wrong class on a real object, a poor box, a missed object).
#include <filesystem>
#include <sstream>

#include "detector/error_analysis.h"
#include "detector/inference.h"
#include "experiments.h"

namespace focal::cli::experiments {
namespace fs = std::filesystem;

std::string write_error_analysis(const std::vector<RunOutcome>& runs, const std::string& data_dir,
                                 const std::string& out_dir, Device device) {
    data::DatasetOptions vo;
    vo.split = "test";
    const data::Dataset ds = data::Dataset::open(data_dir, vo);
    std::string csv = "run,label,ap50,without_localization,without_confusion,without_background,"
                      "top_fp_localization,top_fp_confusion,top_fp_background,positives\n";
    std::ostringstream md;
    md << "| run | AP50 | without localisation errors | and without confusions | and without background FPs "
          "(recall ceiling) | in the top n: poor box / wrong class / background |\n|---|---|---|---|---|---|\n";
    for (const RunOutcome& run : runs) {
        if (run.spec.ablation || run.diverged) continue;
        const detector::LoadedRun loaded = detector::load_run(run.dir, "last", device);
        detector::VocEvaluator evaluator(int(loaded.class_names.size()));
        for (size_t i = 0; i < ds.size(); ++i) {
            std::vector<detector::GroundTruth> truth;
            for (const data::Object& o : ds.annotation(i).objects) truth.push_back({o.box, o.label, o.difficult});
            evaluator.add_image(truth, detector::detect(*loaded.model, ds.load_image(i)));
        }
        const detector::ErrorBreakdown b = detector::analyse_errors(evaluator);
        csv += run.spec.name + ",\"" + run.spec.label + "\"," + fmt(b.ap50, 5) + "," + fmt(b.without_localization, 5) +
               "," + fmt(b.without_confusion, 5) + "," + fmt(b.without_background, 5) + "," +
               std::to_string(b.top_localization) + "," + std::to_string(b.top_confusion) + "," +
               std::to_string(b.top_background) + "," + std::to_string(b.positives) + "\n";
        md << "| " << run.spec.label << " | " << fmt(b.ap50) << " | " << fmt(b.without_localization) << " | "
           << fmt(b.without_confusion) << " | " << fmt(b.without_background) << " | " << b.top_localization << " / "
           << b.top_confusion << " / " << b.top_background << " |\n";
        std::printf("  %s: AP50 %.3f; without poor boxes %.3f, and wrong classes %.3f, and background %.3f\n",
                    run.spec.name.c_str(), b.ap50, b.without_localization, b.without_confusion, b.without_background);
    }
    write_text_file((fs::path(out_dir) / "error_analysis.csv").string(), csv);
    return md.str();
}

}  // namespace focal::cli::experiments
