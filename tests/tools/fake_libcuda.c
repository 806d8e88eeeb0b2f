/* A libcuda.so.1 that loads but holds no function: the broken NVIDIA driver of
   tests/tools/test_device.cpp, for a machine without a GPU. */
int focal_fake_libcuda = 1;
