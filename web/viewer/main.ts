import "../shared/styles.css";
import { route } from "./router.js";

addEventListener("hashchange", () => void route());
void route();
