/* Before running a program under the preload: is it one that LD_PRELOAD
 * can reach? A static executable has no loader to read LD_PRELOAD, and the
 * loader ignores it for setuid, setgid or file-capability programs run by
 * someone else (secure-execution mode): both would run untraced, and
 * silently. Context: the leaktrace command, before exec. */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "cli.h"

/* 1: a dynamic ELF executable, 0: static, -1: not ELF (a script: its
 * interpreter is what runs, and is checked by the loader). */
static int elf_is_dynamic(int fd)
{
	Elf64_Ehdr eh;
	if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0)
		return -1;
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phentsize != sizeof(Elf64_Phdr))
		return -1;
	for (unsigned i = 0; i < eh.e_phnum && i < 4096; i++) {
		Elf64_Phdr ph;
		if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + i * sizeof(ph))) !=
		    (ssize_t)sizeof(ph))
			return -1;
		if (ph.p_type == PT_INTERP)
			return 1;
	}
	return 0;
}

int lt_check_traceable(const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0) {
		fprintf(stderr, "leaktrace: cannot read '%s': %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	int dynamic = elf_is_dynamic(fd);
	close(fd);
	if (dynamic == 0) {
		fprintf(stderr, "leaktrace: '%s' is statically linked: LD_PRELOAD cannot reach it, "
			"so it cannot be traced\n", path);
		return -1;
	}
	bool setuid = (st.st_mode & S_ISUID) && st.st_uid != geteuid();
	bool setgid = (st.st_mode & S_ISGID) && st.st_gid != getegid();
	bool caps = getxattr(path, "security.capability", NULL, 0) > 0;
	if (setuid || setgid || caps) {
		fprintf(stderr, "leaktrace: '%s' is %s: the loader ignores LD_PRELOAD for it, "
			"so it cannot be traced\n", path,
			setuid ? "setuid" : setgid ? "setgid" : "given file capabilities");
		return -1;
	}
	return 0;
}
