// SPDX-License-Identifier: MIT
/*
 * Which kind of /dev/kvm the host has. KVM on VT-x or AMD-V needs the
 * processor's vmx or svm feature, which Linux lists in /proc/cpuinfo, and
 * its vendor module (kvm_intel, kvm_amd). The kvm_pvm module ("PVM", for
 * nested clouds) offers the same API on processors without them but runs
 * only 64-bit user-mode code natively (docs/ARCHITECTURE.md, "The kvm
 * engine"): a machine booting firmware would crawl. So the decision rests on
 * the modules and the CPU flags, which cannot be wrong the way a timing
 * probe can on a loaded host.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cpu/kvm/kvm.h"

#define KVM_DEV "/dev/kvm"

static bool kvm_path_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* Is "vmx" or "svm" among the flags of the first processor? */
static bool kvm_cpu_has_virt(void)
{
	char line[4096];
	bool found = false;
	FILE *f = fopen("/proc/cpuinfo", "re");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "flags", 5))
			continue;
		found = strstr(line, " vmx") || strstr(line, " svm");
		break;
	}
	fclose(f);
	return found;
}

void kvm_host_facts(struct kvm_host_facts *f)
{
	int fd = open(KVM_DEV, O_RDWR | O_CLOEXEC);

	*f = (struct kvm_host_facts){0};
	f->api_version = -1;
	if (fd < 0) {
		f->dev_errno = errno;
	} else {
		f->api_version = ioctl(fd, KVM_GET_API_VERSION, 0);
		if (f->api_version != KVM_API_VERSION)
			f->dev_errno = EPROTO;
		close(fd);
	}
	f->pvm_module = kvm_path_exists("/sys/module/kvm_pvm");
	f->hw_module = kvm_path_exists("/sys/module/kvm_intel") ||
		       kvm_path_exists("/sys/module/kvm_amd");
	f->cpu_virt = kvm_cpu_has_virt();
}

enum kvm_host_kind kvm_host_classify(const struct kvm_host_facts *f, char *why,
				     size_t len)
{
	if (f->dev_errno == EPROTO) {
		snprintf(why, len, "%s answers KVM API version %d, not %d",
			 KVM_DEV, f->api_version, KVM_API_VERSION);
		return KVM_HOST_NONE;
	}
	if (f->dev_errno) {
		snprintf(why, len, "cannot open %s: %s%s", KVM_DEV,
			 strerror(f->dev_errno),
			 f->pvm_module ? " (the kvm_pvm module is loaded but "
					 "offers no device: this kernel is "
					 "probably a PVM guest itself)" :
					 "");
		return KVM_HOST_NONE;
	}
	if (f->cpu_virt && f->hw_module) {
		snprintf(why, len, "%s is KVM on %s", KVM_DEV,
			 "hardware virtualization (vmx/svm)");
		return KVM_HOST_HARDWARE;
	}
	snprintf(why, len,
		 "%s is %s without VT-x/AMD-V: it runs only 64-bit user code "
		 "natively and emulates firmware and kernel code far slower "
		 "than the soft engine",
		 KVM_DEV,
		 f->pvm_module ? "the kvm_pvm module" : "a software KVM");
	return KVM_HOST_SOFTWARE;
}

enum kvm_host_kind kvm_host_probe(char *why, size_t len)
{
	struct kvm_host_facts f;

	kvm_host_facts(&f);
	return kvm_host_classify(&f, why, len);
}
