// `focal curves --out DIR`: the paper's first figure. Writes loss(p_t) for CE and the focal
// loss at several gammas as CSV, computed by the loss library itself, the FL/CE ratios at
// p_t = 0.5, 0.9 and 0.968, and a PNG drawn by tools/plot_curves.py (matplotlib).
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>

#include "commands.h"
#include "curves.h"
#include "engine/error.h"
#include "flag_checks.h"
#include "losses/sigmoid_focal.h"
#include "run_python.h"

namespace focal::cli {
namespace {

namespace fs = std::filesystem;

std::string number(double v, int digits = 9) {
    char text[32];
    std::snprintf(text, sizeof text, "%.*g", digits, v);
    return text;
}

// CE and FL (alpha off) for target 1 at logits x = log(p / (1 - p)): p_t = p.
struct Curves {
    std::vector<float> p_t;
    std::vector<float> ce;
    std::vector<std::vector<float>> fl;  // per gamma
};

Curves compute(const std::vector<float>& p_t, const std::vector<float>& gammas) {
    std::vector<float> x;
    for (float p : p_t) x.push_back(std::log(p / (1.0f - p)));
    const Tensor logits = Tensor::from_vector(x, {int64_t(x.size())});
    const Tensor ones = Tensor::ones({int64_t(x.size())});
    Curves c{p_t,
             losses::binary_cross_entropy_with_logits(logits, ones, -1.0f, losses::Reduction::None).to_vector<float>(),
             {}};
    for (float g : gammas)
        c.fl.push_back(
            losses::sigmoid_focal_loss_fused(logits, ones, -1.0f, g, losses::Reduction::None).to_vector<float>());
    return c;
}

void write_file(const fs::path& path, const std::string& text) {
    std::ofstream out(path);
    out << text;
    FOCAL_CHECK(bool(out.flush()), "[curves] cannot write ", path.string());
}

}  // namespace

void write_curves(const CurvesOptions& opt) {
    FOCAL_CHECK(opt.points >= 3, "[curves] --points must be at least 3, got ", opt.points);
    for (float g : opt.gammas) FOCAL_CHECK(std::isfinite(g) && g >= 0, "[curves] gamma must be >= 0, got ", g);
    const fs::path dir(opt.out);
    std::error_code ec;
    fs::create_directories(dir, ec);
    FOCAL_CHECK(!ec, "[curves] cannot create ", dir.string(), ": ", ec.message());

    // the curves: p_t in (0, 1), plus the annotated points themselves
    const std::vector<float> marked = {0.5f, 0.9f, 0.968f};
    std::vector<float> p_t;
    for (int i = 1; i <= opt.points; ++i) p_t.push_back(float(i) / float(opt.points + 1));
    const Curves c = compute(p_t, opt.gammas);
    std::string csv = "p_t,ce";
    for (float g : opt.gammas) csv.append(",fl_gamma_").append(number(g));
    csv += "\n";
    for (size_t i = 0; i < p_t.size(); ++i) {
        csv.append(number(c.p_t[i], 6)).append(",").append(number(c.ce[i]));
        for (const auto& fl : c.fl) csv.append(",").append(number(fl[i]));
        csv += "\n";
    }
    write_file(dir / "focal_curves.csv", csv);

    // the ratios the paper quotes: FL (gamma 2) is 4x, 100x and ~1000x smaller than CE
    const Curves m = compute(marked, {2.0f});
    std::string ratios = "p_t,gamma,ce,fl,ce_over_fl\n";
    if (opt.verbose) std::printf("FL (gamma = 2) vs CE, computed by focal's losses:\n");
    for (size_t i = 0; i < marked.size(); ++i) {
        const double ratio = double(m.ce[i]) / double(m.fl[0][i]);
        ratios.append(number(marked[i], 6)).append(",2,").append(number(m.ce[i])).append(",");
        ratios.append(number(m.fl[0][i])).append(",").append(number(ratio)).append("\n");
        if (opt.verbose)
            std::printf("  p_t = %-6g CE = %-10.6g FL = %-12.6g FL is %.0fx smaller\n", marked[i], m.ce[i], m.fl[0][i],
                        ratio);
    }
    write_file(dir / "focal_ratios.csv", ratios);
    if (opt.verbose)
        std::printf("wrote %s and %s\n", (dir / "focal_curves.csv").c_str(), (dir / "focal_ratios.csv").c_str());
    if (opt.no_plot) return;

    const fs::path script = opt.script.empty() ? fs::path(tool_script("plot_curves.py")) : fs::path(opt.script);
    FOCAL_CHECK(fs::exists(script), "[curves] plot script ", script.string(), " not found; pass --script ",
                "path/to/tools/plot_curves.py (the CSV files are written)");
    const fs::path png = dir / "focal_curves.png";
    std::fflush(stdout);  // our lines before python's
    const int status = run_python(opt.python,
                                  {script.string(), (dir / "focal_curves.csv").string(),
                                   (dir / "focal_ratios.csv").string(), png.string()},
                                  "curves");
    FOCAL_CHECK(status == 0, "[curves] ", opt.python, " ", script.string(), " failed with status ", status,
                status == 3 ? " (matplotlib is missing: apt install python3-matplotlib)" : "",
                "; the CSV files are written, --no-plot skips the PNG");
}

void add_curves(CLI::App& app) {
    auto opt = std::make_shared<CurvesOptions>();
    CLI::App* cmd =
        app.add_subcommand("curves", "Plot loss vs p_t for CE and the focal loss (Lin et al. 2017, Fig. 1)");
    cmd->add_option("--out", opt->out, "folder for focal_curves.csv, focal_ratios.csv and focal_curves.png")
        ->required();
    cmd->add_option("--gammas", opt->gammas, "focal loss gammas to draw (0 = CE)")
        ->delimiter(',')
        ->capture_default_str();
    cmd->add_option("--points", opt->points, "points on each curve")->capture_default_str()->check(in_range(2, 1e6));
    cmd->add_flag("--no-plot", opt->no_plot, "write the CSV files only");
    cmd->add_option("--python", opt->python, "python with matplotlib")->capture_default_str();
    cmd->add_option("--script", opt->script, "plot script (default: tools/plot_curves.py of the source tree)");
    cmd->callback([opt] { write_curves(*opt); });
}

}  // namespace focal::cli
