// widgets: heapsift's C++ test program.
//
// Allocates many objects of a few polymorphic classes, one heap allocation
// each, and keeps them alive in global vectors. It prints the ground truth as
// "truth KEY VALUE" lines (counts, sizes and the run-time vtable address each
// class's objects start with), then calls abort() so the kernel writes a core.
//
// Usage: widgets [buttons [circles [boxes]]]   (defaults 30000 20000 10000)
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

class Widget {
public:
    explicit Widget(int id) : id_(id) {}
    virtual ~Widget() {}
    virtual int area() const = 0;
    int id() const { return id_; }

private:
    int id_;
};

class Button : public Widget {
public:
    Button(int id, int w, int h) : Widget(id), w_(w), h_(h), clicks_(0) {}
    int area() const override { return w_ * h_; }
    void click() { ++clicks_; }

private:
    int w_, h_;
    long clicks_;
};

namespace shapes {
class Circle : public Widget {
public:
    Circle(int id, double r) : Widget(id), cx_(0), cy_(0), r_(r) {}
    int area() const override { return static_cast<int>(3.14159 * r_ * r_); }

private:
    double cx_, cy_, r_;
};
}  // namespace shapes

template <typename T>
class Box : public Widget {
public:
    Box(int id, T v) : Widget(id), value_(v) {}
    int area() const override { return static_cast<int>(value_); }

private:
    T value_;
};

// Globals, so the objects stay reachable and the compiler keeps them.
std::vector<Button*> g_buttons;
std::vector<shapes::Circle*> g_circles;
std::vector<Box<int>*> g_boxes;

static long count_arg(int argc, char** argv, int i, long def) {
    if (argc <= i) return def;
    char* end = nullptr;
    long n = std::strtol(argv[i], &end, 10);
    if (*argv[i] == '\0' || *end != '\0' || n < 1) {
        std::fprintf(stderr, "widgets: bad count '%s'\n", argv[i]);
        std::exit(2);
    }
    return n;
}

static uintptr_t vtable_of(const void* obj) {
    uintptr_t vp;
    std::memcpy(&vp, obj, sizeof vp);  // the vptr is the first word
    return vp;
}

int main(int argc, char** argv) {
    long nb = count_arg(argc, argv, 1, 30000);
    long nc = count_arg(argc, argv, 2, 20000);
    long nx = count_arg(argc, argv, 3, 10000);

    long total_area = 0;
    for (long i = 0; i < nb; i++) {
        Button* b = new Button(static_cast<int>(i), 80, 24);
        b->click();
        g_buttons.push_back(b);
    }
    for (long i = 0; i < nc; i++) {
        g_circles.push_back(new shapes::Circle(static_cast<int>(i), 1.0 + i % 7));
    }
    for (long i = 0; i < nx; i++) {
        g_boxes.push_back(new Box<int>(static_cast<int>(i), static_cast<int>(i % 100)));
    }
    // Go through the vtables so the classes are really used polymorphically.
    std::vector<Widget*> all;
    all.push_back(g_buttons.front());
    all.push_back(g_circles.front());
    all.push_back(g_boxes.front());
    for (Widget* w : all) total_area += w->area();

    std::printf("truth Button %ld\n", nb);
    std::printf("truth shapes::Circle %ld\n", nc);
    std::printf("truth Box<int> %ld\n", nx);
    std::printf("truth widgets %ld\n", nb + nc + nx);
    std::printf("truth sizeof_Button %zu\n", sizeof(Button));
    std::printf("truth sizeof_shapes::Circle %zu\n", sizeof(shapes::Circle));
    std::printf("truth sizeof_Box<int> %zu\n", sizeof(Box<int>));
    std::printf("truth vtable_Button %#lx\n", static_cast<unsigned long>(vtable_of(g_buttons.front())));
    std::printf("truth vtable_shapes::Circle %#lx\n", static_cast<unsigned long>(vtable_of(g_circles.front())));
    std::printf("truth vtable_Box<int> %#lx\n", static_cast<unsigned long>(vtable_of(g_boxes.front())));
    std::printf("truth first_Button %#lx\n", static_cast<unsigned long>(reinterpret_cast<uintptr_t>(g_buttons.front())));
    std::printf("truth area_check %ld\n", total_area);
    std::fflush(stdout);
    std::fflush(stderr);
    std::abort();
}
