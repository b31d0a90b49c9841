import { Box, Flex, Typography } from '@strapi/design-system';

export interface Bar {
  key: string;
  /** Shown under the bar and in its tooltip. */
  label: string;
  value: number;
  failed?: boolean;
}

/**
 * A small bar chart in SVG: one bar per job, oldest on the left, failed jobs in red. Plain
 * SVG keeps the plugin free of a chart library for a handful of bars.
 */
export const BarChart = ({ title, bars, format }: { title: string; bars: Bar[]; format: (value: number) => string }) => {
  const width = 600;
  const height = 140;
  const max = Math.max(1, ...bars.map((b) => b.value));
  const step = bars.length ? width / bars.length : width;
  return (
    <Flex direction="column" alignItems="stretch" gap={2}>
      <Flex justifyContent="space-between">
        <Typography variant="sigma" textColor="neutral600">
          {title}
        </Typography>
        <Typography variant="pi" textColor="neutral600">
          {format(max)}
        </Typography>
      </Flex>
      <Box>
        <svg role="img" aria-label={title} viewBox={`0 0 ${width} ${height}`} width="100%" height={height} preserveAspectRatio="none">
          <line x1={0} y1={height - 1} x2={width} y2={height - 1} stroke="#dcdce4" />
          {bars.map((bar, i) => {
            const h = bar.failed ? height * 0.08 : Math.max(2, (bar.value / max) * (height - 4));
            return (
              <rect key={bar.key} x={i * step + step * 0.15} y={height - h} width={step * 0.7} height={h} fill={bar.failed ? '#d02b20' : '#4945ff'}>
                <title>{`${bar.label}: ${bar.failed ? '✕' : format(bar.value)}`}</title>
              </rect>
            );
          })}
        </svg>
      </Box>
    </Flex>
  );
};
