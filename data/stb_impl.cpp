// The one translation unit that compiles stb's implementations (see data/image.cpp).
// Only the JPEG and PNG decoders are compiled: data/image.h says why the other formats
// stb_image knows are refused, and data/image.cpp refuses them by their first bytes before
// stb_image sees them.
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_RESIZE_IMPLEMENTATION
#define STBI_FAILURE_USERMSG
#define STBI_ONLY_JPEG
#define STBI_ONLY_PNG
#include <stb_image.h>
#include <stb_image_resize.h>
#include <stb_image_write.h>
