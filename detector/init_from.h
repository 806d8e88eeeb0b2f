// Fine-tuning from another run (`focal train --init-from RUN`): a new run starts from the
// weights of a trained one instead of its random initialisation, as torchvision's and
// detectron2's fine-tuning recipes do.
#pragma once
#include <string>
#include <vector>

#include "layers/module.h"

namespace focal::detector {

// What init_from_run did with each tensor, by name, for the log.
struct InitFromReport {
    std::string file;                        // the checkpoint read
    std::vector<std::string> loaded;         // copied from the run
    std::vector<std::string> reinitialised;  // kept this model's fresh initialisation
    std::vector<std::string> skipped;        // in the run's checkpoint, not in this model
};

// Copies into `model` every tensor of RUN's checkpoint (RUN/checkpoint.safetensors, or RUN
// itself when it names a .safetensors file) that has the same name and shape. The
// classification head's last layer (head.cls_score.*) is the one allowed to differ in shape,
// when the class count does: it keeps the fresh N(0, 0.01) weights and prior bias (Lin et
// al. 2017, sec. 4.1). It keeps them too when RUN/config.json lists other classes than
// `classes`, even as many. Any other tensor the run lacks, or has in another shape, is an
// error naming it (another preset or --model), and then nothing is changed.
InitFromReport init_from_run(Module& model, const std::string& run, const std::vector<std::string>& classes);

}  // namespace focal::detector
