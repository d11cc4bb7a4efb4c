// C++: operator new throws std::bad_alloc when it cannot allocate (and the
// nothrow forms return nullptr; a new_handler runs first), and exceptions
// unwind through frames that allocate and free on the way.
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

static int handler_calls;
// A new-expression whose result is unused may be elided: the leaks go
// through here.
static void *volatile sink;

static void give_up()
{
	handler_calls++;
	std::set_new_handler(nullptr);   // the next failure throws
}

static int do_bad_alloc()
{
	const size_t huge = SIZE_MAX / 4;
	try {
		char *p = new char[huge];
		std::printf("new char[huge]: %p?\n", (void *)p);
	} catch (const std::bad_alloc &e) {
		std::printf("new char[huge]: %s\n", e.what());
	}
	try {
		volatile size_t n = SIZE_MAX / 2;
		int *p = new int[n];   // size overflows: bad_array_new_length
		std::printf("new int[SIZE_MAX/2]: %p?\n", (void *)p);
	} catch (const std::bad_array_new_length &e) {
		std::printf("new int[SIZE_MAX/2]: bad_array_new_length: %s\n", e.what());
	} catch (const std::bad_alloc &e) {
		std::printf("new int[SIZE_MAX/2]: bad_alloc: %s\n", e.what());
	}
	char *q = new (std::nothrow) char[huge];
	std::printf("new (nothrow) char[huge]: %s\n", q ? "ptr" : "nullptr");
	void *a = ::operator new(huge, std::align_val_t(64), std::nothrow);
	std::printf("aligned nothrow new: %s\n", a ? "ptr" : "nullptr");
	try {
		void *b = ::operator new(huge, std::align_val_t(4096));
		std::printf("aligned new: %p?\n", b);
	} catch (const std::bad_alloc &e) {
		std::printf("aligned new: %s\n", e.what());
	}
	std::set_new_handler(give_up);
	try {
		void *c = ::operator new(huge);
		std::printf("new with a handler: %p?\n", c);
	} catch (const std::bad_alloc &e) {
		std::printf("new with a handler: %s after %d handler call(s)\n", e.what(),
			    handler_calls);
	}
	errno = EILSEQ;
	int *ok = new int(7);
	std::printf("successful new keeps errno: %s\n", errno == EILSEQ ? "yes" : "no");
	delete ok;
	sink = new int[25];   // 100 bytes, lost
	sink = nullptr;
	return 0;
}

struct Tracked {
	std::string name;
	std::vector<int> data;
	explicit Tracked(int i) : name("object number " + std::to_string(i)), data(50, i) {}
};

static int depth_reached;

[[gnu::noinline]] static void descend(int depth)
{
	auto owned = std::make_unique<Tracked>(depth);
	std::vector<std::string> strings(3, std::string(40, 'x'));
	depth_reached = depth;
	if (depth == 200)
		throw std::runtime_error("thrown at depth 200 with " +
					 std::to_string(owned->data.size()) + " ints");
	descend(depth + 1);
}

static int do_exceptions()
{
	for (int round = 0; round < 50; round++) {
		try {
			descend(0);
		} catch (const std::exception &e) {
			if (round == 0)
				std::printf("caught: %s (depth %d)\n", e.what(), depth_reached);
		}
	}
	std::printf("50 rounds of 200 frames unwound\n");
	sink = new char[100];   // lost
	sink = nullptr;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !std::strcmp(argv[1], "bad-alloc"))
		return do_bad_alloc();
	if (argc > 1 && !std::strcmp(argv[1], "exceptions"))
		return do_exceptions();
	std::fprintf(stderr, "usage: %s bad-alloc|exceptions\n", argv[0]);
	return 2;
}
