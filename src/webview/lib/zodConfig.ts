/**
 * Imported first by the webview entry: zod decides at schema construction whether to compile
 * fast parsers with `new Function`; jitless keeps it from trying (no eval under the views' CSP).
 */
import { z } from 'zod';

z.config({ jitless: true });
