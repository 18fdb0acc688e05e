// Page glue loaded on every page. The UI foundation extends it (theme, toggles, Alpine components).
document.documentElement.dataset.js = "on";
export {};
