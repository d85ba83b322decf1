/** The dashboard's entry point: defines every component; `index.html` places `<cp-app>`. */
import './components/app-shell.js';
