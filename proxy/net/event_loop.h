#pragma once
// Small RAII wrappers over libev watchers. Each worker thread runs one
// ev_loop; every watcher belongs to exactly one loop and is touched only from
// its thread. A watcher calls a member function of its owner, and stops
// itself when destroyed, so an owner that dies never gets called back.

#include <ev.h>

#include <functional>
#include <memory>
#include <vector>

#include "util/c_boundary.h"

namespace regiongate {

// Owns one ev_loop. Declare it before every watcher that uses the loop, so
// that it is destroyed after them.
class EventLoop {
 public:
  EventLoop() : loop_(ev_loop_new(EVFLAG_AUTO)) {}
  ~EventLoop() { ev_loop_destroy(loop_); }
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;
  struct ev_loop* get() const { return loop_; }

 private:
  struct ev_loop* loop_;
};

namespace detail {
// libev calls these (the C boundary: util/c_boundary.h).
template <class T, void (T::*Method)(int)>
void io_trampoline(struct ev_loop*, ev_io* w, int revents) noexcept {
  fail_stop("an I/O watcher", [&] { (static_cast<T*>(w->data)->*Method)(revents); });
}
template <class T, void (T::*Method)()>
void timer_trampoline(struct ev_loop*, ev_timer* w, int) noexcept {
  fail_stop("a timer", [&] { (static_cast<T*>(w->data)->*Method)(); });
}
template <class T, void (T::*Method)()>
void async_trampoline(struct ev_loop*, ev_async* w, int) noexcept {
  fail_stop("a wake-up", [&] { (static_cast<T*>(w->data)->*Method)(); });
}
}  // namespace detail

// Readiness of one file descriptor; `events` is EV_READ, EV_WRITE, both or 0.
class IoWatcher {
 public:
  IoWatcher() = default;
  IoWatcher(const IoWatcher&) = delete;
  IoWatcher& operator=(const IoWatcher&) = delete;
  ~IoWatcher() { stop(); }

  template <class T, void (T::*Method)(int revents)>
  void init(struct ev_loop* loop, int fd, T* owner) {
    loop_ = loop;
    ev_io_init(&io_, (detail::io_trampoline<T, Method>), fd, 0);
    io_.data = owner;
  }
  // Changes the interest set; 0 stops watching.
  void watch(int events) {
    if (events == events_) return;
    if (events_) ev_io_stop(loop_, &io_);
    events_ = events;
    if (events) {
      ev_io_set(&io_, io_.fd, events);
      ev_io_start(loop_, &io_);
    }
  }
  void stop() { watch(0); }
  int events() const { return events_; }

 private:
  struct ev_loop* loop_ = nullptr;
  ev_io io_{};
  int events_ = 0;
};

// A one-shot timeout: arm() (re)starts it from now; activity calls arm()
// again. arm(0) runs the callback on the next loop iteration.
class Timer {
 public:
  Timer() = default;
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;
  ~Timer() { stop(); }

  template <class T, void (T::*Method)()>
  void init(struct ev_loop* loop, T* owner) {
    loop_ = loop;
    ev_init(&timer_, (detail::timer_trampoline<T, Method>));
    timer_.data = owner;
  }
  void arm(double seconds) {
    // Not ev_timer_again: with a zero repeat it stops the timer instead.
    ev_timer_stop(loop_, &timer_);
    ev_timer_set(&timer_, seconds, 0.);
    ev_timer_start(loop_, &timer_);
  }
  void stop() {
    if (loop_) ev_timer_stop(loop_, &timer_);
  }
  bool active() const { return ev_is_active(&timer_); }

 private:
  struct ev_loop* loop_ = nullptr;
  ev_timer timer_{};
};

// Objects that finished inside their own call stack (a session that closed
// in one of its callbacks) and are destroyed on the next loop turn instead.
// `after`, when given, runs once each time the graveyard has been emptied.
template <class T>
class Graveyard {
 public:
  Graveyard(struct ev_loop* loop, std::function<void()> after = {}) : after_(std::move(after)) {
    timer_.init<Graveyard, &Graveyard::empty>(loop, this);
  }
  void bury(std::unique_ptr<T> item) {
    dead_.push_back(std::move(item));
    if (!timer_.active()) timer_.arm(0);
  }
  // Destroys them now, without `after` (the owner's teardown).
  void clear() {
    timer_.stop();
    dead_.clear();
  }

 private:
  void empty() {
    clear();
    if (after_) after_();
  }

  std::vector<std::unique_ptr<T>> dead_;
  std::function<void()> after_;
  Timer timer_;
};

// Wakes a loop from another thread (the only thread-safe call here: send()).
class AsyncWakeup {
 public:
  AsyncWakeup() = default;
  AsyncWakeup(const AsyncWakeup&) = delete;
  AsyncWakeup& operator=(const AsyncWakeup&) = delete;
  ~AsyncWakeup() {
    if (loop_) ev_async_stop(loop_, &async_);
  }
  template <class T, void (T::*Method)()>
  void init(struct ev_loop* loop, T* owner) {
    loop_ = loop;
    ev_async_init(&async_, (detail::async_trampoline<T, Method>));
    async_.data = owner;
    ev_async_start(loop_, &async_);
  }
  void send() { ev_async_send(loop_, &async_); }

 private:
  struct ev_loop* loop_ = nullptr;
  ev_async async_{};
};

// Work to do once per loop iteration, just before the loop waits again: a
// connection that has frames queued registers here and is flushed with one
// write, however many streams added to it during the iteration (STYLE 26).
// One per loop, found through ev_userdata.
class FlushQueue {
 public:
  class Client {
   public:
    virtual void flush_now() = 0;

   protected:
    ~Client() = default;
    bool queued_ = false;
    friend class FlushQueue;
  };

  explicit FlushQueue(struct ev_loop* loop) : loop_(loop) {
    ev_set_userdata(loop_, this);
    ev_prepare_init(&prepare_, on_prepare);
    prepare_.data = this;
    ev_prepare_start(loop_, &prepare_);
  }
  ~FlushQueue() {
    ev_prepare_stop(loop_, &prepare_);
    ev_set_userdata(loop_, nullptr);
  }
  FlushQueue(const FlushQueue&) = delete;
  FlushQueue& operator=(const FlushQueue&) = delete;

  static FlushQueue* of(struct ev_loop* loop) { return static_cast<FlushQueue*>(ev_userdata(loop)); }

  void add(Client* c) {
    if (c->queued_) return;
    c->queued_ = true;
    queued_.push_back(c);
  }
  // A client that goes away while queued.
  void remove(Client* c) {
    if (!c->queued_) return;
    c->queued_ = false;
    for (auto* list : {&queued_, &batch_}) {
      for (Client*& q : *list) {
        if (q == c) q = nullptr;
      }
    }
  }

 private:
  static void on_prepare(struct ev_loop*, ev_prepare* w, int) noexcept {
    fail_stop("the flush queue", [&] { static_cast<FlushQueue*>(w->data)->flush_all(); });
  }
  void flush_all() {
    // Flushing may queue more (a write that frees window): loop until empty.
    // Both vectors keep their capacity: no allocation per iteration.
    while (!queued_.empty()) {
      std::vector<Client*>& batch = batch_;
      batch.swap(queued_);
      for (Client* c : batch) {
        if (!c) continue;
        c->queued_ = false;
        c->flush_now();
      }
      batch.clear();
    }
  }

  struct ev_loop* loop_;
  ev_prepare prepare_{};
  std::vector<Client*> queued_;
  std::vector<Client*> batch_;  // being flushed
};

}  // namespace regiongate
