// The incident page (the command centre): ticks the next SLA deadline's countdown every second and
// asks data-timeline-url for the events recorded since the newest one shown every
// data-refresh-seconds, prepending them and refreshing the badges and the deadline. Everything is
// built with textContent, never HTML from the server.
"use strict";
(function () {
  const root = document.getElementById("vigil-incident");
  if (!root) return;
  const url = root.dataset.timelineUrl;
  const every = Number(root.dataset.refreshSeconds || 5) * 1000;
  const show = root.dataset.show || "all";
  const live = root.dataset.live === "1"; // an older page of the timeline is not prepended to
  let after = Number(root.dataset.after || 0);

  const words = window.vigilCountdown; // incidents/static/incidents/countdown.js

  const countdown = document.getElementById("countdown");

  function tick() {
    const span = countdown.querySelector(".left");
    if (!countdown.dataset.due) {
      span.textContent = "";
      return;
    }
    const remaining = (Date.parse(countdown.dataset.due) - Date.now()) / 1000;
    span.textContent = words(remaining);
    span.classList.toggle("overdue", remaining < 0);
  }

  function badge(id, text, colors, title) {
    const span = document.createElement("span");
    span.className = "vigil-badge";
    span.textContent = text;
    span.style.backgroundColor = colors[0];
    span.style.color = colors[1];
    if (title) span.title = title;
    document.getElementById(id).replaceChildren(span);
  }

  function renderState(state) {
    badge("severity-badge", state.severity, state.severity_colors, state.severity_label);
    badge("status-badge", state.status, state.status_colors);
    badge("sla-badge", state.sla, state.sla_colors);
    const name = countdown.querySelector(".vigil-due-name");
    if (state.next_due) {
      countdown.dataset.due = state.next_due.due_at;
      countdown.title = state.next_due.name + " due " + state.next_due.due_local;
      name.textContent = state.next_due.name;
    } else {
      delete countdown.dataset.due;
      countdown.removeAttribute("title");
      name.textContent = "no SLA deadline pending";
    }
    tick();
  }

  function span(className, text) {
    const element = document.createElement("span");
    element.className = className;
    element.textContent = text;
    return element;
  }

  function eventItem(event) {
    const item = document.createElement("li");
    item.className = "vigil-event vigil-new";
    item.dataset.id = String(event.id);
    const meta = document.createElement("div");
    meta.className = "vigil-event-meta";
    const audience = span("vigil-badge " + (event.visibility === "external" ? "vigil-external" : "vigil-outline"), event.visibility);
    meta.append(span("vigil-when", event.when), " ", span("vigil-what", event.what), " ", span("vigil-who", event.who), " ");
    if (event.via) meta.append(span("vigil-via", event.via), " ");  // only where a person acted from
    meta.append(audience);
    const message = document.createElement("div");
    message.className = "vigil-message";
    message.textContent = event.message;
    item.append(meta, message);
    return item;
  }

  function renderEvents(events) {
    const list = document.getElementById("timeline-events");
    for (const event of events) {
      after = Math.max(after, event.id);
      if (!live || list.querySelector('[data-id="' + event.id + '"]')) continue;
      list.prepend(eventItem(event));
    }
    if (live && events.length) document.getElementById("no-events").hidden = true;
  }

  let busy = false;
  async function refresh() {
    if (busy) return;
    busy = true;
    try {
      const query = "?after=" + after + "&show=" + encodeURIComponent(show);
      const response = await fetch(url + query, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (response.ok) {
        const data = await response.json();
        renderEvents(data.events);
        renderState(data.state);
      }
    } catch (error) {
      // Offline for a moment: keep what is shown and ask again at the next interval.
    } finally {
      busy = false;
    }
  }

  tick();
  setInterval(tick, 1000);
  setInterval(refresh, every);
})();
