// Losses by name: the trainer's --cls-loss / --box-loss and `focal losses` read this table.
//
// Each loss registers itself in its own .cpp file with FOCAL_REGISTER_CLS_LOSS or
// FOCAL_REGISTER_BOX_LOSS (see
// docs/learn/06-adding-a-loss.md). focal_losses is linked whole-archive
// (losses/CMakeLists.txt), so a registration in a file nothing else calls still runs.
#pragma once
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "losses/loss.h"

namespace focal::losses {

enum class LossKind { Classification, Box };
const char* loss_kind_name(LossKind kind);  // "classification", "box"

// The values a parameter accepts. The registry checks every parameter against its rule
// before `make` runs, with a message naming the loss ("[asl] gamma_neg must be >= 0, got
// -1"), so a registration states each range once, beside the parameter.
enum class ParamRule {
    Any,          // any finite value
    NonNegative,  // >= 0
    Positive,     // > 0
    Alpha,        // a class weight in [0, 1], or negative to turn the weighting off
    Fraction,     // in [0, 1)
    Count,        // a whole number >= 0
};
struct ParamSpec {
    std::string name;
    float default_value;
    std::string help;
    ParamRule rule = ParamRule::Any;
};

// Every declared parameter of one loss, defaults filled in, overrides applied.
class LossParams {
public:
    LossParams(std::string loss, std::map<std::string, float> values)
        : loss_(std::move(loss)), values_(std::move(values)) {}
    float operator[](const std::string& name) const;  // throws if the loss did not declare it
    const std::map<std::string, float>& values() const { return values_; }
    const std::string& loss() const { return loss_; }  // the registered name, for messages and ops

private:
    std::string loss_;
    std::map<std::string, float> values_;
};

// What `focal losses` lists about a loss.
struct LossInfo {
    std::string name;  // what --cls-loss / --box-loss take: [a-z0-9_]+
    LossKind kind = LossKind::Classification;
    std::string summary;    // one line
    std::string reference;  // paper and equation
    std::vector<ParamSpec> params;
};

// A registration: the listing, plus `make`, which builds the loss from resolved parameters
// (already checked against their rules; p.loss() is the registered name).
struct ClsLossSpec {
    std::string name, summary, reference;
    std::vector<ParamSpec> params;
    std::function<ClassificationLoss(const LossParams&)> make;
};
struct BoxLossSpec {
    std::string name, summary, reference;
    std::vector<ParamSpec> params;
    std::function<BoxLoss(const LossParams&)> make;
};

// Add a loss; return true so that they can initialise a static. A malformed spec or a
// duplicate name is remembered and reported by every later call below (an exception
// during static initialisation would end the program before main could report it).
bool register_cls_loss(ClsLossSpec spec);
bool register_box_loss(BoxLossSpec spec);

#define FOCAL_LOSS_CONCAT_(a, b) a##b
#define FOCAL_LOSS_CONCAT(a, b) FOCAL_LOSS_CONCAT_(a, b)
// At namespace scope in the loss's .cpp:  FOCAL_REGISTER_CLS_LOSS({.name = "mine", ...});
#define FOCAL_REGISTER_CLS_LOSS(...)                                                             \
    [[maybe_unused]] static const bool FOCAL_LOSS_CONCAT(focal_cls_loss_registered_, __LINE__) = \
        ::focal::losses::register_cls_loss(__VA_ARGS__)
#define FOCAL_REGISTER_BOX_LOSS(...)                                                             \
    [[maybe_unused]] static const bool FOCAL_LOSS_CONCAT(focal_box_loss_registered_, __LINE__) = \
        ::focal::losses::register_box_loss(__VA_ARGS__)

// All registered losses, classification first, then by name.
std::vector<LossInfo> registered_losses();
std::vector<std::string> loss_names(LossKind kind);

// The loss named `name`; an unknown name fails listing the known ones of that kind.
LossInfo find_loss(const std::string& name, LossKind kind);

// Builds a loss from its name and parameter overrides ({"gamma", 2}). Fails on an unknown
// name (listing the known ones), an unknown parameter (listing the loss's parameters),
// or a value the loss rejects.
ClassificationLoss make_cls_loss(const std::string& name, const std::map<std::string, float>& params = {});
BoxLoss make_box_loss(const std::string& name, const std::map<std::string, float>& params = {});

// Parses "key=value" strings (a command line's --loss-param) into overrides; fails on a
// missing '=', an empty key, a repeated key or a value that is not a finite number.
std::map<std::string, float> parse_loss_params(const std::vector<std::string>& key_values);

// "alpha=0.25 gamma=2": the defaults of a spec, or the resolved values of a built loss.
std::string format_params(const std::map<std::string, float>& values);
std::map<std::string, float> default_params(const LossInfo& info);

}  // namespace focal::losses
