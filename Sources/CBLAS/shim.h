// The CBLAS interface of the system BLAS. On Debian, libblas-dev installs cblas.h through the
// alternatives system, so netlib and OpenBLAS both answer to this one header and `-lblas`.
#include <cblas.h>
