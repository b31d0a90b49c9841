import type { ReactNode } from 'react';

import { Box, Flex, Typography } from '@strapi/design-system';
import { ArrowLeft } from '@strapi/icons';
import { Link } from 'react-router-dom';

/** A white card of a page, with an optional heading. */
export const Section = ({ title, children, label }: { title?: string; children: ReactNode; label?: string }) => (
  <Box background="neutral0" hasRadius shadow="tableShadow" padding={6}>
    <Flex direction="column" alignItems="stretch" gap={4} role={label ? 'region' : undefined} aria-label={label}>
      {title ? (
        <Typography variant="delta" tag="h2">
          {title}
        </Typography>
      ) : null}
      {children}
    </Flex>
  </Box>
);

/** The "Back" link of a sub-page, to the backups list. */
export const BackLink = ({ label }: { label: string }) => (
  <Link to=".." relative="path">
    <Flex gap={2}>
      <ArrowLeft />
      <Typography>{label}</Typography>
    </Flex>
  </Link>
);
