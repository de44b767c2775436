import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The Linux app's webview is WebKitGTK: build for Safari-class engines.
// Everything is bundled: no CDN, nothing fetched at run time.
export default defineConfig({
  plugins: [react()],
  base: "./",
  build: {
    target: ["es2021", "safari15", "chrome100"],
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
    assetsInlineLimit: 0,
  },
  server: { port: 5173, strictPort: true },
});
