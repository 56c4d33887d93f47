"""Build script for fplandscape: pure-Python package plus compiled Cython kernels."""
import os
import re
import sys

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, find_packages, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "fplandscape", "_version.py")) as fh:
    VERSION = re.search(r'__version__ = "([^"]+)"', fh.read()).group(1)

COMPILE_ARGS = ["-O3"]
MACROS = [("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")]


# OpenMP (GCC/Clang on Linux): used by kernels with ``cython.parallel.prange``; elsewhere they
# compile without it and run single-threaded (same results: integer accumulation only).
OPENMP_ARGS = ["-fopenmp"] if sys.platform.startswith("linux") else []


def ext(name, openmp=False):
    """One Cython module fplandscape/<path>.pyx -> extension fplandscape.<name>."""
    path = os.path.join("fplandscape", *name.split(".")) + ".pyx"
    return Extension(
        "fplandscape." + name,
        [path],
        include_dirs=[np.get_include()],
        extra_compile_args=COMPILE_ARGS + (OPENMP_ARGS if openmp else []),
        extra_link_args=OPENMP_ARGS if openmp else [],
        define_macros=MACROS,
    )


class ParallelBuildExt(build_ext):
    """build_ext compiling the extensions in parallel, one per core, unless ``-j`` says
    otherwise (halves the install time of ``pip install .`` on 2 cores)."""

    def finalize_options(self):
        super().finalize_options()
        if not self.parallel:
            self.parallel = os.cpu_count() or 1


EXTENSIONS = [ext("sim._stability"), ext("sim._dfs"), ext("sim._clusters", openmp=True),
              ext("sim._local", openmp=True),
              ext("sim._dynamics"), ext("learn._sweeps")]

setup(
    name="fplandscape",
    version=VERSION,
    description="Statistical mechanics of fixed points in random binary recurrent networks",
    long_description=open(os.path.join(HERE, "README.md")).read(),
    long_description_content_type="text/markdown",
    packages=find_packages(include=["fplandscape", "fplandscape.*"]),
    # the Cython declaration files shared by the kernels (_exact.pxd, _epilogue.pxd): source
    # distributions must carry them to build
    package_data={"fplandscape.sim": ["*.pxd", "*.pyx"], "fplandscape.learn": ["*.pyx"]},
    cmdclass={"build_ext": ParallelBuildExt},
    ext_modules=cythonize(
        EXTENSIONS,
        nthreads=os.cpu_count() or 1,
        language_level=3,
        compiler_directives={"boundscheck": False, "wraparound": False, "cdivision": True},
    ),
    python_requires=">=3.9",
    install_requires=[
        "numpy>=2.0",
        "scipy>=1.10",
        "mpmath>=1.3",
        "sympy>=1.12",
        "matplotlib>=3.7",
        "tqdm>=4.60",
        "python-flint>=0.6",
    ],
    extras_require={
        "test": ["pytest>=7", "dask[distributed]>=2023.1", "scikit-learn>=1.0", "import-linter>=2.0",
                 "pytest-xdist>=3.0"],
        "dask": ["dask[distributed]>=2023.1"],
        # the digits of the FEP network's studies (scikit-learn's bundled load_digits)
        "fep": ["scikit-learn>=1.0"],
    },
    entry_points={"console_scripts": ["fplandscape=fplandscape.cli:main"]},
    zip_safe=False,
)
