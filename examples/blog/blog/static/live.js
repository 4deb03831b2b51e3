// Live updates for the index page: new posts arrive over the /ws/posts
// websocket and are added to the top of the list without a reload.
// Elements are built with textContent, never innerHTML, so post text
// cannot inject markup.
(() => {
  "use strict";
  const list = document.getElementById("posts");
  const status = document.getElementById("live-status");
  if (!list || !status || !("WebSocket" in window)) {
    return;
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function renderPost(post, url) {
    const article = element("article", "post new");
    article.id = `post-${post.id}`;
    const header = element("header");
    const title = element("h2");
    const link = element("a", "", post.title);
    link.href = url;
    title.append(link);
    const about = element("p", "about", `by ${post.username} on `);
    const time = element("time", "", `${post.created.slice(0, 16).replace("T", " ")} UTC`);
    time.dateTime = post.created;
    about.append(time);
    header.append(title, about);
    if (list.dataset.userId && Number(list.dataset.userId) === post.author_id) {
      const edit = element("a", "action", "Edit");
      edit.href = `${url}/edit`;
      header.append(edit);
    }
    article.append(header, element("p", "body", post.body));
    return article;
  }

  // url_for gives an absolute ws:// or wss:// URL for a websocket route.
  const socket = new WebSocket(list.dataset.feed);
  socket.addEventListener("open", () => {
    status.textContent = "Live: new posts appear here as they are published.";
  });
  socket.addEventListener("close", () => {
    status.textContent =
      "Live updates are off (they need an ASGI server, e.g. uvicorn). Reload to see new posts.";
  });
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(event.data);
    if (message.type !== "post.created" || document.getElementById(`post-${message.post.id}`)) {
      return;
    }
    list.querySelector(".empty")?.remove();
    list.prepend(renderPost(message.post, message.url));
  });
})();
