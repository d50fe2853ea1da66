// SPDX-License-Identifier: GPL-2.0
/*
 * Time per page of faulting userfaultfd-MISSING memory through test_hmm's
 * unlockable mirror (one hmm_range_fault_unlockable() call for the whole
 * range) against the CPU touching the same pages, with the same handler:
 * one UFFDIO_COPY per page in both. Also times HMM_DMIRROR_READ on pages
 * that are already present, which exists on the base kernel too.
 * "walks" counts, with the function profiler, the page table walk callbacks
 * one mirror call makes per page: a count that TCG's timing noise cannot
 * blur, and that grows with NPAGES if the walk restarts rather than resumes
 * after each lock drop.
 *
 *   hmm-uffd-bench MODE NPAGES RUNS
 *     MODE: mirror | cpu | present | walks
 * Prints one line per run: "MODE NPAGES ns_per_page" ("walks NPAGES
 * callbacks_per_page" for walks).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "test_hmm_uapi.h"

static long page_size;

struct handler {
	int uffd;
	int stop_fd;
	char *src;
	pthread_t thread;
};

static void die(const char *what)
{
	fprintf(stderr, "hmm-uffd-bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void *handle_faults(void *arg)
{
	struct handler *h = arg;
	struct pollfd fds[2] = {
		{ .fd = h->uffd, .events = POLLIN },
		{ .fd = h->stop_fd, .events = POLLIN },
	};

	for (;;) {
		struct uffdio_copy copy = { 0 };
		struct uffd_msg msg;

		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		if (fds[1].revents)
			return NULL;
		if (read(h->uffd, &msg, sizeof(msg)) != sizeof(msg)) {
			if (errno == EAGAIN)
				continue;
			die("read uffd");
		}
		if (msg.event != UFFD_EVENT_PAGEFAULT)
			continue;
		copy.dst = msg.arg.pagefault.address & ~(page_size - 1);
		copy.src = (unsigned long)h->src;
		copy.len = page_size;
		if (ioctl(h->uffd, UFFDIO_COPY, &copy) && errno != EEXIST)
			die("UFFDIO_COPY");
	}
}

static void handler_start(struct handler *h, void *addr, size_t len)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = {
		.range = { .start = (unsigned long)addr, .len = len },
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};

	h->uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (h->uffd < 0)
		die("userfaultfd");
	if (ioctl(h->uffd, UFFDIO_API, &api) || ioctl(h->uffd, UFFDIO_REGISTER, &reg))
		die("UFFDIO_API/REGISTER");
	h->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (h->stop_fd < 0)
		die("eventfd");
	h->src = aligned_alloc(page_size, page_size);
	memset(h->src, 0x5a, page_size);
	if (pthread_create(&h->thread, NULL, handle_faults, h))
		die("pthread_create");
}

static void handler_stop(struct handler *h)
{
	uint64_t one = 1;

	if (write(h->stop_fd, &one, sizeof(one)) != sizeof(one))
		die("eventfd write");
	pthread_join(h->thread, NULL);
	close(h->stop_fd);
	close(h->uffd);
	free(h->src);
}

#define TRACEFS "/sys/kernel/tracing"

static void tracefs_write(const char *file, const char *val)
{
	size_t len = strlen(val), done = 0;
	char path[256];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), TRACEFS "/%s", file);
	fd = open(path, O_WRONLY | O_TRUNC);
	if (fd < 0)
		die(path);
	/* set_ftrace_filter takes one name per write() and says so by a short count */
	while (done < len) {
		n = write(fd, val + done, len - done);
		if (n <= 0)
			die(path);
		done += n;
	}
	close(fd);
}

/* Hits of the hmm walk's pmd and hole callbacks, over every CPU. */
static unsigned long walk_callbacks(void)
{
	char path[256], name[128], line[512];
	unsigned long total = 0, hits;
	unsigned int cpu;
	FILE *f;

	for (cpu = 0;; cpu++) {
		snprintf(path, sizeof(path), TRACEFS "/trace_stat/function%u", cpu);
		f = fopen(path, "r");
		if (!f)
			break;
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "%127s %lu", name, &hits) == 2 &&
			    (!strcmp(name, "hmm_vma_walk_pmd") ||
			     !strcmp(name, "hmm_vma_walk_hole")))
				total += hits;
		fclose(f);
	}
	if (!cpu)
		die(TRACEFS "/trace_stat/function0");
	return total;
}

static uint64_t mirror(int dev, unsigned long req, char *addr, char *buf,
		       unsigned long npages)
{
	struct hmm_dmirror_cmd cmd = {
		.addr = (unsigned long)addr,
		.ptr = (unsigned long)buf,
		.npages = npages,
	};
	uint64_t t = now_ns();

	if (ioctl(dev, req, &cmd))
		die("test_hmm ioctl");
	t = now_ns() - t;
	if (cmd.cpages != npages) {
		fprintf(stderr, "hmm-uffd-bench: mirrored %llu of %lu pages\n",
			(unsigned long long)cmd.cpages, npages);
		exit(1);
	}
	return t;
}

int main(int argc, char **argv)
{
	unsigned long npages, i;
	struct handler h;
	int dev, run, runs;
	const char *mode;
	char *addr, *buf;
	size_t len;

	if (argc != 4) {
		fprintf(stderr, "usage: %s mirror|cpu|present|walks NPAGES RUNS\n", argv[0]);
		return 2;
	}
	mode = argv[1];
	npages = strtoul(argv[2], NULL, 0);
	runs = atoi(argv[3]);
	if (!npages || runs <= 0) {
		fprintf(stderr, "hmm-uffd-bench: NPAGES and RUNS must be positive\n");
		return 2;
	}
	page_size = sysconf(_SC_PAGESIZE);
	len = npages * page_size;
	dev = open("/dev/hmm_dmirror0", O_RDWR | O_CLOEXEC);
	if (dev < 0)
		die("/dev/hmm_dmirror0 (is test_hmm loaded?)");
	addr = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (addr == MAP_FAILED || buf == MAP_FAILED)
		die("mmap");

	if (strcmp(mode, "present") == 0) {
		memset(addr, 0x5a, len);
		for (run = 0; run < runs; run++)
			printf("present %lu %.1f\n", npages,
			       (double)mirror(dev, HMM_DMIRROR_READ, addr, buf, npages) / npages);
		return 0;
	}
	if (strcmp(mode, "mirror") && strcmp(mode, "cpu") && strcmp(mode, "walks")) {
		fprintf(stderr, "hmm-uffd-bench: unknown mode '%s'\n", mode);
		return 2;
	}
	handler_start(&h, addr, len);
	if (strcmp(mode, "walks") == 0) {
		tracefs_write("set_ftrace_filter", "hmm_vma_walk_pmd\nhmm_vma_walk_hole\n");
		tracefs_write("function_profile_enabled", "1");
	}
	for (run = 0; run < runs; run++) {
		uint64_t t;

		/* every page missing again; the mirror is invalidated too */
		if (madvise(addr, len, MADV_DONTNEED))
			die("madvise");
		if (strcmp(mode, "walks") == 0) {
#ifdef HMM_DMIRROR_READ_UNLOCKABLE
			unsigned long before = walk_callbacks();

			mirror(dev, HMM_DMIRROR_READ_UNLOCKABLE, addr, buf, npages);
			printf("walks %lu %.3f\n", npages,
			       (double)(walk_callbacks() - before) / npages);
			fflush(stdout);
			continue;
#endif
		}
		if (strcmp(mode, "mirror") == 0) {
#ifdef HMM_DMIRROR_READ_UNLOCKABLE
			t = mirror(dev, HMM_DMIRROR_READ_UNLOCKABLE, addr, buf, npages);
#else
			fprintf(stderr, "hmm-uffd-bench: built without the series' uapi\n");
			return 2;
#endif
		} else {
			volatile char sum = 0;

			t = now_ns();
			for (i = 0; i < npages; i++)
				sum += addr[i * page_size];
			t = now_ns() - t;
			if (sum != (char)(0x5a * npages)) {
				fprintf(stderr, "hmm-uffd-bench: wrong data after CPU faults\n");
				return 1;
			}
		}
		printf("%s %lu %.1f\n", mode, npages, (double)t / npages);
		fflush(stdout);
	}
	if (strcmp(mode, "walks") == 0) {
		tracefs_write("function_profile_enabled", "0");
		tracefs_write("set_ftrace_filter", "");
	}
	handler_stop(&h);
	return 0;
}
