import { ProgressBar } from '@strapi/design-system';
import { styled } from 'styled-components';

export type ProgressTone = 'primary' | 'success' | 'warning' | 'danger';

const FILL: Record<ProgressTone, 'primary600' | 'success500' | 'warning500' | 'danger600'> = {
  primary: 'primary600',
  success: 'success500',
  warning: 'warning500',
  danger: 'danger600',
};

/**
 * The design system's ProgressBar drawn for a page or a modal. Its own colours are made for the
 * Media Library's upload card, over a dark overlay: a neutral600 track and a neutral0 fill, so
 * on a neutral0 modal a full bar is white on white (and in the dark theme, dark on dark). It has
 * no colour prop; Strapi's own admin restyles it the same way (the guided tour's and the AI
 * usage's bars): a light track and a coloured fill, from the theme, so both themes work.
 */
export const Progress = styled(ProgressBar)<{ $tone?: ProgressTone }>`
  width: 100%;
  background-color: ${({ theme }) => theme.colors.neutral150};

  > div {
    background-color: ${({ theme, $tone = 'primary' }) => theme.colors[FILL[$tone]]};
  }
`;
