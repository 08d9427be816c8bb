// Marks the page as scripted before it paints, so the narrow-screen menu starts folded.
document.documentElement.classList.add("js");
