// The FaceNetSharp page: plain JavaScript against the server's /v1 API; boxes are drawn from the JSON answers.
"use strict";

const $ = (id) => document.getElementById(id);
const keyInput = $("api-key");

keyInput.value = localStorage.getItem("facenetsharp-api-key") ?? "";
keyInput.addEventListener("change", () => {
  localStorage.setItem("facenetsharp-api-key", keyInput.value);
  showGallery();
});

/** POSTs/GETs an API call; throws an Error with the server's problem detail when it is not a success. */
async function api(method, path, form) {
  const headers = {};
  if (keyInput.value) headers["X-Api-Key"] = keyInput.value;
  const response = await fetch(path, { method, headers, body: form });
  if (response.status === 204) return null;
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    const message = body?.detail ?? body?.title ?? `HTTP ${response.status}`;
    throw new Error(message);
  }
  return body;
}

/** Loads a picked file into an image element (the browser applies the EXIF orientation, as the server does). */
function loadImage(file) {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = () => reject(new Error(`${file.name} is not an image this browser can show`));
    img.src = URL.createObjectURL(file);
  });
}

/** Draws the image at its own size and a box (with an optional label) per face. */
function drawFaces(canvas, img, boxes) {
  canvas.width = img.naturalWidth;
  canvas.height = img.naturalHeight;
  const g = canvas.getContext("2d");
  g.drawImage(img, 0, 0);
  const line = Math.max(2, Math.min(canvas.width, canvas.height) / 150);
  g.lineWidth = line;
  g.font = `${Math.max(12, line * 7)}px system-ui, sans-serif`;
  for (const { box, label, colour } of boxes) {
    g.strokeStyle = g.fillStyle = colour ?? "#00e640";
    g.strokeRect(box.x1, box.y1, box.x2 - box.x1, box.y2 - box.y1);
    if (label) g.fillText(label, box.x1, Math.max(line * 7, box.y1 - line));
  }
}

// --- health ---
async function showHealth() {
  try {
    const h = await fetch("/health").then((r) => r.json());
    $("model").textContent = `Model ${h.model} (${h.dimensions}-d, ${h.metric} distance, threshold ${h.threshold})`;
    $("key-row").hidden = !h.apiKeyRequired;
  } catch (e) {
    $("model").textContent = `The server does not answer: ${e.message}`;
  }
}

// --- verify ---
const picked = { 1: null, 2: null };
for (const n of [1, 2]) {
  $(`photo${n}`).addEventListener("change", async (event) => {
    const file = event.target.files[0];
    picked[n] = file ? { file, img: await loadImage(file) } : null;
    if (picked[n]) drawFaces($(`canvas${n}`), picked[n].img, []);
    $("verify").disabled = !(picked[1] && picked[2]);
    $("verdict").textContent = "";
  });
}

$("verify").addEventListener("click", async () => {
  const verdict = $("verdict");
  verdict.className = "";
  verdict.textContent = "Comparing…";
  const form = new FormData();
  form.append("image1", picked[1].file);
  form.append("image2", picked[2].file);
  try {
    const r = await api("POST", "/v1/verify", form);
    drawFaces($("canvas1"), picked[1].img, [{ box: r.image1.box }]);
    drawFaces($("canvas2"), picked[2].img, [{ box: r.image2.box }]);
    const d = r.distance.toFixed(3), t = r.threshold.toFixed(3);
    verdict.className = r.same ? "same" : "different";
    verdict.textContent = r.same
      ? `Same person (distance ${d} < threshold ${t})`
      : `Different people (distance ${d} ≥ threshold ${t})`;
  } catch (e) {
    verdict.className = "error";
    verdict.textContent = `Error: ${e.message}`;
  }
});

// --- gallery ---
async function showGallery() {
  const list = $("gallery");
  try {
    const g = await api("GET", "/v1/gallery");
    list.replaceChildren(...g.people.map((p) => {
      const li = document.createElement("li");
      li.textContent = `${p.name} (${p.faces} face${p.faces === 1 ? "" : "s"})`;
      const remove = document.createElement("button");
      remove.type = "button";
      remove.textContent = "Remove";
      remove.addEventListener("click", async () => {
        await api("DELETE", `/v1/gallery/${encodeURIComponent(p.name)}`).catch((e) => alert(e.message));
        showGallery();
      });
      li.append(remove);
      return li;
    }));
    if (g.people.length === 0) list.innerHTML = "<li>Nobody is enrolled yet.</li>";
  } catch (e) {
    list.innerHTML = "";
    list.append(Object.assign(document.createElement("li"), { className: "error", textContent: e.message }));
  }
}

$("enrol-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const name = $("enrol-name").value.trim();
  const status = $("enrol-status");
  const form = new FormData();
  for (const file of $("enrol-photos").files) form.append("image", file);
  status.className = "";
  status.textContent = "Enrolling…";
  try {
    const r = await api("POST", `/v1/gallery/${encodeURIComponent(name)}`, form);
    status.textContent = `Enrolled ${r.name}: ${r.added} face(s) added, ${r.faceCount} in all.`;
    showGallery();
  } catch (e) {
    status.className = "error";
    status.textContent = `Error: ${e.message}`;
  }
});

// --- identify ---
$("identify-photo").addEventListener("change", async (event) => {
  const file = event.target.files[0];
  const result = $("identify-result");
  result.replaceChildren();
  if (!file) return;
  const img = await loadImage(file);
  const canvas = $("identify-canvas");
  drawFaces(canvas, img, []);
  const form = new FormData();
  form.append("image", file);
  form.append("top", "3");
  try {
    const r = await api("POST", "/v1/identify", form);
    drawFaces(canvas, img, r.faces.map((f, i) => ({
      box: f.box,
      label: `${i + 1}: ${f.person ?? "unknown"}`,
      colour: f.person ? "#00e640" : "#ff9800",
    })));
    if (r.faces.length === 0) result.innerHTML = "<li>No face found.</li>";
    for (const f of r.faces) {
      const li = document.createElement("li");
      const best = f.matches.map((m) => `${m.name} ${m.distance.toFixed(3)}`).join(", ");
      li.textContent = `${f.person ?? "Unknown"}${best ? ` (nearest: ${best})` : " (the gallery is empty)"}`;
      result.append(li);
    }
    // Which 1:N threshold decided "unknown" (chosen for the server's FPIR at the gallery's size).
    if (r.operatingPoint) result.append(Object.assign(document.createElement("li"), { className: "note", textContent: r.operatingPoint }));
  } catch (e) {
    result.append(Object.assign(document.createElement("li"), { className: "error", textContent: `Error: ${e.message}` }));
  }
});

showHealth();
showGallery();
