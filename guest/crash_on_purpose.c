/*
 * The harness's own self-test: crash the guest kernel on purpose through
 * sysrq, so the runner can be shown to turn a dying guest into a FAIL with the
 * right title. Takes the common options so it runs like any scenario program.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	double delay = 1.0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--delay") && i + 1 < argc)
			delay = atof(argv[++i]);
		else if ((!strcmp(argv[i], "--duration") || !strcmp(argv[i], "--seed") ||
			  !strcmp(argv[i], "--threads")) && i + 1 < argc)
			i++; /* accepted for uniformity; the crash needs neither */
		else {
			fprintf(stderr, "crash-on-purpose: unknown option %s\n", argv[i]);
			return 2;
		}
	}
	fprintf(stderr, "crash-on-purpose: crashing the kernel via sysrq in %.1fs\n", delay);
	usleep((useconds_t)(delay * 1e6));
	sync();
	int fd = open("/proc/sysrq-trigger", O_WRONLY);
	if (fd < 0) {
		perror("crash-on-purpose: /proc/sysrq-trigger");
		return 2;
	}
	if (write(fd, "c", 1) != 1)
		perror("crash-on-purpose: write");
	/* Still here: the kernel did not crash, which is the self-test failing. */
	printf("{\"ok\": false, \"oracle_failures\": 1, \"failures\": [\"kernel survived sysrq-c\"], "
	       "\"stuck_threads\": 0, \"ops\": 0, \"ops_per_s\": 0, \"elapsed_s\": 0}\n");
	return 1;
}
