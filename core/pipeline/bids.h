/* bids.h — private to the pipeline: BIDS names and dataset-level files of a batch
 * (core/pipeline/batch.c). */
#ifndef SB_PIPELINE_BIDS_H
#define SB_PIPELINE_BIDS_H

#include "sb_core.h"

/* The BIDS name (entities and suffix, e.g. "acq-stir_T2w") of one of our contrasts, whether it
 * is a derivative and its datatype folder ("anat" or "dwi"). 0 if the contrast is unknown or
 * out (size n) is too small. */
int bids_image_name(const char *contrast, double flip_deg, char *out, size_t n, int *derivative,
                    const char **datatype);
/* Digits of the subject labels: 4, or more for counts above 9999. */
int bids_label_width(uint32_t count);

/* Whole texts (malloc'd, NUL-terminated, ending in a newline; NULL: out of memory). */
char *bids_dataset_description(uint64_t master_seed, int derivative);
/* lesions: also the pathology and lesion_count columns; twins: and the twin column */
char *bids_participants_json(int lesions, int twins);
char *bids_readme(void);
/* A file's bytes (malloc'd, NUL added), NULL if unreadable. */
char *bids_read_file(const char *path, size_t *len);

/* root/derivatives/synthbody/<id>/<id>_subject.json: the record that marks a subject finished. */
void bids_record_path(const char *root, const char *id, char *out, size_t n);
/* Writes root/participants.tsv (rows sub-1..count in order, each subject with lesions followed
 * by its normal twin sub-<k>normal when batch.json has normal_twins) from the records.
 * complete_only: if a subject is unfinished, write nothing and return SB_OK with *written 0;
 * else that is SB_ERR_INPUT naming how many and the first. */
sb_status bids_participants(const char *root, uint32_t count, int complete_only, int *written,
                            sb_error *err);

#endif
