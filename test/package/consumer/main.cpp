// The C++ API from an outside project: eager NDArray arithmetic, a
// kiln::Error across the shared-library boundary, and an .npy file for the
// AOT executable test/package/RunPackageTest.cmake builds next.
#include <kiln/Error.h>
#include <kiln/NDArray.h>

#include <iostream>

int main(int argc, char **argv) {
  using namespace kiln;
  NDArray x({2, 3}, {1, 2, 3, 4, 5, 6});
  NDArray b({3}, {10, 20, 30});
  NDArray y = x * 2.0f + b; // broadcasting
  std::cout << "y =";
  for (float v : y.toVector())
    std::cout << " " << v;
  std::cout << "\nsum = " << nd::sum(y).item() << "\n";
  try {
    nd::invoke("NoSuchOp", {x});
    std::cout << "no error\n";
    return 1;
  } catch (const Error &e) {
    std::cout << "caught kiln::Error: " << e.what() << "\n";
  }
  if (argc > 1)
    nd::saveNpy(argv[1], nd::full({1, 1, 28, 28}, 0.5f));
  return 0;
}
