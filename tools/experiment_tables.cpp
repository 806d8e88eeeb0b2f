// The tables of `focal experiments`: AP over epochs of every run (ap_over_epochs.csv), the
// main comparison on the test split (main_results.csv) and the ablations of Table 1, small
// (ablation_*.csv, and ablations.md for the report).
#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "experiments.h"

namespace focal::cli::experiments {
namespace fs = std::filesystem;

std::string fmt(double v, int digits) {
    if (v < 0 || std::isnan(v)) return "-";
    char text[32];
    std::snprintf(text, sizeof text, "%.*f", digits, v);
    return text;
}

void write_text_file(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary);
    out << text;
    FOCAL_CHECK(bool(out.flush()), "[experiments] cannot write ", path);
}

namespace {
std::string general(double v) {  // losses: a diverging run's reach 1e26
    char text[32];
    std::snprintf(text, sizeof text, "%.6g", v);
    return text;
}
}  // namespace

void write_ap_over_epochs(const std::vector<RunOutcome>& runs, const std::string& out_dir) {
    std::string csv = "run,label,ablation,diverged,epoch,val_ap50_area,val_ap50_voc07,loss,cls,box,seconds\n";
    for (const RunOutcome& r : runs)
        for (const EpochPoint& p : r.epochs)
            csv += r.spec.name + ",\"" + r.spec.label + "\"," + (r.spec.ablation ? "1," : "0,") +
                   (r.diverged ? "1," : "0,") + std::to_string(p.epoch) + "," + fmt(p.map50_area, 5) + "," +
                   fmt(p.map50_voc07, 5) + "," + general(p.loss) + "," + general(p.cls) + "," + general(p.box) + "," +
                   fmt(p.seconds, 2) + "\n";
    write_text_file((fs::path(out_dir) / "ap_over_epochs.csv").string(), csv);
}

std::string write_first_iterations(const std::vector<RunOutcome>& runs, const std::string& out_dir, int64_t max_step) {
    std::string csv = "run,label,step,loss,cls,box\n";
    std::string table = "| run | step 1 | 10 | 50 | 100 | 200 |\n|---|---|---|---|---|---|\n";
    for (const RunOutcome& r : runs) {
        if (r.spec.ablation) continue;
        for (const StepPoint& p : r.steps)
            if (p.step <= max_step)
                csv += r.spec.name + ",\"" + r.spec.label + "\"," + std::to_string(p.step) + "," + general(p.loss) +
                       "," + general(p.cls) + "," + general(p.box) + "\n";
        table += "| " + r.spec.label + " |";
        for (int64_t at : {1, 10, 50, 100, 200}) {
            const StepPoint* last = nullptr;  // the last logged step at or before `at`
            for (const StepPoint& p : r.steps)
                if (p.step <= at) last = &p;
            std::string text = last ? general(last->loss) : std::string("-");
            if (last && last->step != at) text.append(" (").append(std::to_string(last->step)).append(")");
            table.append(" ").append(text).append(" |");
        }
        table += "\n";
    }
    write_text_file((fs::path(out_dir) / "first_iterations.csv").string(), csv);
    return table;
}

namespace {

const RunOutcome* find_run(const std::vector<RunOutcome>& runs, const std::string& name) {
    for (const RunOutcome& r : runs)
        if (r.spec.name == name) return &r;
    return nullptr;
}

// "0.412 / 0.201" (AP50 / AP), or why there is none.
std::string cell(const RunOutcome* r) {
    if (!r) return "not run";
    if (r->diverged) return "diverged (epoch " + std::to_string(r->epochs.size() + 1) + ")";
    return fmt(r->test_ap50) + " / " + fmt(r->test_ap);
}

std::string csv_row(const RunOutcome* r) {
    if (!r) return ",,,";
    return fmt(r->test_ap50, 5) + "," + fmt(r->test_ap, 5) + "," + fmt(r->test_ap50_voc07, 5) + "," +
           (r->diverged ? "1" : "0");
}

}  // namespace

std::string write_ablation_tables(const std::vector<RunOutcome>& runs, const std::string& out_dir) {
    const fs::path dir(out_dir);
    std::string md;
    // Main comparison: the final weights of each main run on the test split.
    std::string main_csv = "run,label,test_ap50_area,test_ap,test_ap50_voc07,diverged,best_val_ap50,seconds\n";
    md += "| method (main budget) | test AP50 / AP | best val AP50 (epoch) | minutes |\n|---|---|---|---|\n";
    for (const RunSpec& s : main_runs()) {
        const RunOutcome* r = find_run(runs, s.name);
        double best = -1;
        int best_epoch = 0;
        if (r)
            for (const EpochPoint& p : r->epochs)
                if (p.map50_area > best) best = p.map50_area, best_epoch = p.epoch;
        main_csv += s.name + ",\"" + s.label + "\"," + csv_row(r) + "," + fmt(best, 5) + "," +
                    (r ? fmt(r->seconds, 1) : "") + "\n";
        const std::string at = best >= 0 ? " (" + std::to_string(best_epoch) + ")" : "";
        md += "| " + s.label + " | " + cell(r) + " | " + fmt(best) + at + " | " + (r ? fmt(r->seconds / 60, 1) : "-") +
              " |\n";
    }
    write_text_file((dir / "main_results.csv").string(), main_csv);

    // Table 1b, smaller: gamma x alpha.
    std::string grid_csv = "gamma,alpha,test_ap50_area,test_ap,test_ap50_voc07,diverged\n";
    md += "\n**gamma x alpha** (FL; γ = 0 is α-balanced CE), test AP50 / AP:\n\n"
          "| γ \\ α | 0.25 | 0.5 | 0.75 |\n|---|---|---|---|\n";
    for (const char* g : {"0", "1", "2", "5"}) {
        md += std::string("| ") + g + " |";
        for (const char* a : {"0.25", "0.5", "0.75"}) {
            const RunOutcome* r = find_run(runs, std::string("abl_g") + g + "_a" + a);
            grid_csv += std::string(g) + "," + a + "," + csv_row(r) + "\n";
            md.append(" ").append(cell(r)).append(" |");
        }
        md += "\n";
    }
    write_text_file((dir / "ablation_gamma_alpha.csv").string(), grid_csv);

    // The prior pi (sec. 3.3, 4.1) and the normaliser (sec. 4.1), at the ablation budget.
    std::string prior_csv = "loss,prior,test_ap50_area,test_ap,test_ap50_voc07,diverged\n";
    md += "\n**prior initialisation** (π = .01 vs a zero bias), test AP50 / AP:\n\n"
          "| loss | prior π = .01 | bias 0 |\n|---|---|---|\n";
    const std::pair<const char*, std::array<const char*, 2>> prior_rows[] = {{"FL (γ 2, α 0.25)",
                                                                              {"abl_g2_a0.25", "abl_fl_no_prior"}},
                                                                             {"CE (α 0.25)",
                                                                              {"abl_g0_a0.25", "abl_ce_no_prior"}}};
    for (const auto& [label, names] : prior_rows) {
        md += std::string("| ") + label + " | " + cell(find_run(runs, names[0])) + " | " +
              cell(find_run(runs, names[1])) + " |\n";
        prior_csv += std::string("\"") + label + "\",1," + csv_row(find_run(runs, names[0])) + "\n";
        prior_csv += std::string("\"") + label + "\",0," + csv_row(find_run(runs, names[1])) + "\n";
    }
    write_text_file((dir / "ablation_prior.csv").string(), prior_csv);

    std::string norm_csv = "normalizer,test_ap50_area,test_ap,test_ap50_voc07,diverged\n";
    md += "\n**normaliser** of FL (γ 2, α 0.25), test AP50 / AP:\n\n| divided by | test AP50 / AP |\n|---|---|\n";
    for (const auto& [label, name] :
         {std::pair<const char*, const char*>{"positives", "abl_g2_a0.25"}, {"anchors", "abl_fl_norm_anchors"}}) {
        md += std::string("| ") + label + " | " + cell(find_run(runs, name)) + " |\n";
        norm_csv += std::string(label) + "," + csv_row(find_run(runs, name)) + "\n";
    }
    write_text_file((dir / "ablation_normalizer.csv").string(), norm_csv);
    write_text_file((dir / "ablations.md").string(), md);
    return md;
}

}  // namespace focal::cli::experiments
