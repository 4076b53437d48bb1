// The chart module's pure functions, in Node (no browser): TensorBoard's smoothing.
import { test, expect } from "@playwright/test";
// @ts-ignore: plain JavaScript module, without type declarations.
import { smooth, formatNumber } from "../../frontend/js/charts.js";

test("smoothing is TensorBoard's debiased EMA", () => {
  const out = Array.from(smooth(new Float64Array([1, 3]), 0.5));
  // First point: 0.5 / (1 - 0.5) = 1; second: (0.25 + 1.5) / 0.75.
  expect(out[0]).toBe(1);
  expect(out[1]).toBeCloseTo(1.75 / 0.75, 12);
  // A constant series and weight 0 stay as they are; non-finite values pass through.
  expect(Array.from(smooth(new Float64Array([2, 2, 2]), 0.9))).toEqual([2, 2, 2]);
  expect(Array.from(smooth(new Float64Array([1, 5, 3]), 0))).toEqual([1, 5, 3]);
  const gap = Array.from(smooth(new Float64Array([1, NaN, 3]), 0.5));
  expect(gap[1]).toBeNaN();
  expect(gap[2]).toBeCloseTo(1.75 / 0.75, 12);
  expect(smooth(new Float64Array([]), 0.6).length).toBe(0);
});

test("chart numbers are short", () => {
  expect(formatNumber(0.1 + 0.2)).toBe("0.3");
  expect(formatNumber(1234567)).toBe("1.235e+6");
  expect(formatNumber(0)).toBe("0");
  expect(formatNumber(null)).toBe("—");
});
