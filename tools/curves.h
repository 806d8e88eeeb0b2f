// Loss vs p_t for CE and the focal loss (Lin et al. 2017, Fig. 1): `focal curves` and the
// first figure of `focal experiments`.
#pragma once
#include <string>
#include <vector>

namespace focal::cli {

struct CurvesOptions {
    std::string out;
    std::vector<float> gammas = {0.0f, 0.5f, 1.0f, 2.0f, 5.0f};
    int points = 999;
    bool no_plot = false;
    std::string python = "/usr/bin/python3";  // Debian's, which has python3-matplotlib
    std::string script;                       // default: tools/plot_curves.py of the source tree
    bool verbose = true;                      // print the FL/CE ratios
};

// Writes OUT/focal_curves.csv and focal_ratios.csv, computed by the loss library, and
// (unless no_plot) OUT/focal_curves.png; throws focal::Error when the plot fails.
void write_curves(const CurvesOptions& options);

}  // namespace focal::cli
