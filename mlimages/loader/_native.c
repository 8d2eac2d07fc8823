/* The loader's one compiled loop: the window of an image, mirrored or not, minus the mean's
 * window, times a scale, written in one pass over the float32 output.
 *
 * NumPy needs three passes over that output for the same result (cast, subtract, scale), each
 * reading and writing 618 KB for a 227x227 RGB crop; this loop reads the uint8 window and the
 * mean once and writes once (measured: benchmarks/RESULTS.md, 2026-12-03). Each element is
 * ((float)pixel - mean) * scale: the two roundings of mlimages.loader.transforms.normalize in
 * the same order, so the same bits (the tests compare them). mlimages/loader/native.py calls
 * mlimages_place through ctypes after checking every shape, stride and bound; the module
 * itself is empty, so importing it is harmless. Built by setuptools as an optional extension:
 * without a C compiler the package installs without it and the NumPy path runs.
 */
#define Py_LIMITED_API 0x030B0000
#include <Python.h>
#include <stddef.h>
#include <stdint.h>

/* GCC on x86-64: one copy of the loop per instruction set, chosen when the library loads
 * (SSE2 converts bytes to floats in several steps; SSE4.1 and AVX2 in one). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define CLONES __attribute__((target_clones("avx2", "arch=x86-64-v2", "default")))
#else
#define CLONES
#endif

/* out[c][y][x] = (image[c][top + y][flip ? width - 1 - left - x : left + x]
 *                 - mean[c][top + y][left + x]) * scale
 * image: uint8, element strides (image_c, image_row, 1); mean: float32, element strides
 * (mean_c, mean_row, mean_col), mean_row = mean_col = 0 for one value per channel;
 * out: float32 (channels, crop, crop), C-contiguous. */
CLONES void mlimages_place(float *restrict out, const uint8_t *restrict image,
                           ptrdiff_t image_c, ptrdiff_t image_row, ptrdiff_t width,
                           const float *restrict mean,
                           ptrdiff_t mean_c, ptrdiff_t mean_row, ptrdiff_t mean_col,
                           int channels, int crop, int top, int left, int flip, float scale)
{
    for (int c = 0; c < channels; c++) {
        for (int y = 0; y < crop; y++) {
            const uint8_t *row = image + c * image_c + (ptrdiff_t)(top + y) * image_row;
            const float *m = mean + c * mean_c + (ptrdiff_t)(top + y) * mean_row
                             + left * mean_col;
            float *o = out + ((ptrdiff_t)c * crop + y) * crop;
            const uint8_t *forward = row + left, *backward = row + (width - 1 - left);
            if (mean_col && !flip) {
                for (int x = 0; x < crop; x++) o[x] = ((float)forward[x] - m[x]) * scale;
            } else if (mean_col) {
                for (int x = 0; x < crop; x++) o[x] = ((float)backward[-x] - m[x]) * scale;
            } else if (!flip) {
                for (int x = 0; x < crop; x++) o[x] = ((float)forward[x] - m[0]) * scale;
            } else {
                for (int x = 0; x < crop; x++) o[x] = ((float)backward[-x] - m[0]) * scale;
            }
        }
    }
}

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_native",
    "Holds mlimages_place for ctypes (see mlimages/loader/native.py); no Python functions.",
    -1, NULL,
};

PyMODINIT_FUNC PyInit__native(void)
{
    return PyModule_Create(&module);
}
