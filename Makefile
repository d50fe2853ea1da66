# mshv-uffd: a Linux 7.2.y patch series (patches/) and the harness that
# proves it. Every target runs harness/run; see README.md.
#   make          build the series and run the kselftests in a VM
#   make check    the same plus checkpatch, bisect, sparse, W=1,
#                 coccicheck, kernel-doc, arm64 and the harness's own tests
#   make tree     prepare the kernel work tree and print where it is
#   make export   write the work tree's commits back to patches/
#   make bench    the performance benchmark (see README.md)
# Variables: KSRC=/path/to/linux-7.2.y, BASE_DEB=..., JOBS=N, ARCH=x86_64.

.PHONY: all check tree export bench deps harness-tests clean

all:
	@harness/run all

check:
	@harness/run check

tree:
	@harness/run tree

export:
	@harness/run export

bench:
	@harness/run bench

deps:
	@harness/deps.sh

harness-tests:
	@tests/run.sh

clean:
	rm -rf build
