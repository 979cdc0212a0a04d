/* vtk_bridge.cxx — VTK 9.1's vtkDiscreteFlyingEdges3D as a cross-check of the native extractor.
 *
 * Reference: W. Schroeder, R. Maynard, B. Geveci: "Flying Edges: A High-Performance Scalable
 * Isocontouring Algorithm", IEEE LDAV 2015.
 *
 * Passes: bounding box of the label; the mask of the box grown by one voxel (the padding, so
 * border-touching labels close) copied into a uint8 vtkImageData with origin (box - 1) and
 * spacing 1, i.e. in the volume's index space; vtkDiscreteFlyingEdges3D at value 1 (normals,
 * gradients and scalars off); points mapped to world mm by the affine; all triangles flipped
 * if the signed volume is negative (left-handed affines).
 * DFE shares points along each voxel edge within one label (no merge needed: measured closed
 * by sb_mesh_check in the unit tests). Its header warns it may emit zero-area triangles; on a
 * binary mask its vertices are edge midpoints, so we have not seen any.
 * C++ exceptions stop at this boundary (bad_alloc -> SB_ERR_MEMORY, others -> SB_ERR_INTERNAL).
 * VTK reports its own errors through its global output window; this file changes no VTK
 * global state.
 */
#include "sb_mesh.h"

#include "mesh_internal.h"

#include <vtkCellArray.h>
#include <vtkDecimatePro.h>
#include <vtkDiscreteFlyingEdges3D.h>
#include <vtkUnsignedShortArray.h>
#include <vtkWindowedSincPolyDataFilter.h>
#include <vtkXMLPolyDataWriter.h>
#include <vtkImageData.h>
#include <vtkNew.h>
#include <vtkPoints.h>
#include <vtkPolyData.h>
#include <vtkUnsignedCharArray.h>
#include <vtkPointData.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

struct BBox {
    size_t lo[3], hi[3];
};

bool label_bbox(const sb_volume *v, int label, BBox *b) {
    bool any = false;
    const double l = label;
    for (size_t k = 0; k < v->dim[2]; k++)
        for (size_t j = 0; j < v->dim[1]; j++) {
            size_t n = sb_volume_index(v, 0, j, k);
            for (size_t i = 0; i < v->dim[0]; i++, n++) {
                if (sb_volume_get(v, n) != l) continue;
                const size_t p[3] = {i, j, k};
                for (int a = 0; a < 3; a++) {
                    if (!any || p[a] < b->lo[a]) b->lo[a] = p[a];
                    if (!any || p[a] > b->hi[a]) b->hi[a] = p[a];
                }
                any = true;
            }
        }
    return any;
}

sb_status run(const sb_volume *v, int label, sb_trimesh **out, sb_error *err) {
    BBox b;
    if (!label_bbox(v, label, &b))
        return sb_error_set(err, SB_ERR_LABEL, "label %d is absent from the volume", label);
    int dims[3];
    for (int a = 0; a < 3; a++) dims[a] = (int)(b.hi[a] - b.lo[a] + 3);

    vtkNew<vtkImageData> img;
    img->SetDimensions(dims);
    img->SetOrigin((double)b.lo[0] - 1, (double)b.lo[1] - 1, (double)b.lo[2] - 1);
    img->SetSpacing(1, 1, 1);
    vtkNew<vtkUnsignedCharArray> mask;
    mask->SetName("mask");
    const size_t n = (size_t)dims[0] * (size_t)dims[1] * (size_t)dims[2];
    mask->SetNumberOfTuples((vtkIdType)n);
    unsigned char *m = mask->GetPointer(0);
    std::memset(m, 0, n);
    const double l = label;
    for (size_t k = b.lo[2]; k <= b.hi[2]; k++)
        for (size_t j = b.lo[1]; j <= b.hi[1]; j++) {
            size_t src = sb_volume_index(v, b.lo[0], j, k);
            size_t dst =
                1 + (size_t)dims[0] * ((j - b.lo[1] + 1) + (size_t)dims[1] * (k - b.lo[2] + 1));
            for (size_t i = b.lo[0]; i <= b.hi[0]; i++) m[dst++] = sb_volume_get(v, src++) == l;
        }
    img->GetPointData()->SetScalars(mask);

    vtkNew<vtkDiscreteFlyingEdges3D> dfe;
    dfe->SetInputData(img);
    dfe->SetValue(0, 1);
    dfe->ComputeNormalsOff();
    dfe->ComputeGradientsOff();
    dfe->ComputeScalarsOff();
    dfe->Update();
    vtkPolyData *pd = dfe->GetOutput();
    vtkPoints *pts = pd->GetPoints();
    vtkCellArray *polys = pd->GetPolys();
    if (!pts || !polys || polys->GetNumberOfCells() == 0)
        return sb_error_set(err, SB_ERR_INTERNAL,
                            "vtkDiscreteFlyingEdges3D produced no triangles for label %d", label);

    sb_trimesh *mesh = static_cast<sb_trimesh *>(std::calloc(1, sizeof *mesh));
    if (!mesh) throw std::bad_alloc();
    mesh->nverts = (size_t)pts->GetNumberOfPoints();
    mesh->ntris = (size_t)polys->GetNumberOfCells();
    mesh->verts = static_cast<float *>(std::malloc(mesh->nverts * 3 * sizeof(float)));
    mesh->tris = static_cast<uint32_t *>(std::malloc(mesh->ntris * 3 * sizeof(uint32_t)));
    if (!mesh->verts || !mesh->tris || mesh->nverts > UINT32_MAX) {
        sb_trimesh_free(mesh);
        throw std::bad_alloc();
    }
    for (size_t i = 0; i < mesh->nverts; i++) {
        double ijk[3], xyz[3];
        pts->GetPoint((vtkIdType)i, ijk);
        sb_volume_to_world(v, ijk, xyz);
        for (int a = 0; a < 3; a++) mesh->verts[3 * i + a] = (float)xyz[a];
    }
    size_t t = 0;
    vtkIdType npts;
    const vtkIdType *ids;
    double vol = 0;
    for (polys->InitTraversal(); polys->GetNextCell(npts, ids); t++) {
        if (npts != 3) {
            sb_trimesh_free(mesh);
            return sb_error_set(err, SB_ERR_INTERNAL,
                                "vtkDiscreteFlyingEdges3D: cell %zu of label %d has %d points", t,
                                label, (int)npts);
        }
        const float *p[3];
        for (int c = 0; c < 3; c++) {
            mesh->tris[3 * t + c] = (uint32_t)ids[c];
            p[c] = mesh->verts + 3 * (size_t)ids[c];
        }
        vol += (double)p[0][0] * ((double)p[1][1] * p[2][2] - (double)p[1][2] * p[2][1]) -
               (double)p[0][1] * ((double)p[1][0] * p[2][2] - (double)p[1][2] * p[2][0]) +
               (double)p[0][2] * ((double)p[1][0] * p[2][1] - (double)p[1][1] * p[2][0]);
    }
    if (vol < 0)
        for (size_t i = 0; i < mesh->ntris; i++) {
            uint32_t x = mesh->tris[3 * i + 1];
            mesh->tris[3 * i + 1] = mesh->tris[3 * i + 2];
            mesh->tris[3 * i + 2] = x;
        }
    *out = mesh;
    return SB_OK;
}

/* sb_trimesh -> vtkPolyData (points as given). */
vtkSmartPointer<vtkPolyData> to_polydata(const sb_trimesh *m) {
    vtkNew<vtkPoints> pts;
    pts->SetDataTypeToFloat();
    pts->SetNumberOfPoints((vtkIdType)m->nverts);
    for (size_t i = 0; i < m->nverts; i++)
        pts->SetPoint((vtkIdType)i, m->verts[3 * i], m->verts[3 * i + 1], m->verts[3 * i + 2]);
    vtkNew<vtkCellArray> polys;
    polys->AllocateExact((vtkIdType)m->ntris, (vtkIdType)(3 * m->ntris));
    for (size_t t = 0; t < m->ntris; t++) {
        vtkIdType ids[3] = {m->tris[3 * t], m->tris[3 * t + 1], m->tris[3 * t + 2]};
        polys->InsertNextCell(3, ids);
    }
    auto pd = vtkSmartPointer<vtkPolyData>::New();
    pd->SetPoints(pts);
    pd->SetPolys(polys);
    return pd;
}

/* vtkPolyData (triangles) -> sb_trimesh, points mapped by the affine of v when v != NULL. NULL if
 * a cell is not a triangle. Throws bad_alloc. */
sb_trimesh *from_polydata(vtkPolyData *pd, const sb_volume *v) {
    sb_trimesh *m = static_cast<sb_trimesh *>(std::calloc(1, sizeof *m));
    if (!m) throw std::bad_alloc();
    vtkPoints *pts = pd->GetPoints();
    vtkCellArray *polys = pd->GetPolys();
    m->nverts = pts ? (size_t)pts->GetNumberOfPoints() : 0;
    m->ntris = polys ? (size_t)polys->GetNumberOfCells() : 0;
    m->verts = static_cast<float *>(std::malloc((m->nverts + 1) * 3 * sizeof(float)));
    m->tris = static_cast<uint32_t *>(std::malloc((m->ntris + 1) * 3 * sizeof(uint32_t)));
    if (!m->verts || !m->tris || m->nverts > UINT32_MAX) {
        sb_trimesh_free(m);
        throw std::bad_alloc();
    }
    for (size_t i = 0; i < m->nverts; i++) {
        double p[3], w[3];
        pts->GetPoint((vtkIdType)i, p);
        if (v)
            sb_volume_to_world(v, p, w);
        else
            std::memcpy(w, p, sizeof w);
        for (int a = 0; a < 3; a++) m->verts[3 * i + a] = (float)w[a];
    }
    size_t t = 0;
    vtkIdType npts;
    const vtkIdType *ids;
    if (polys)
        for (polys->InitTraversal(); polys->GetNextCell(npts, ids); t++) {
            if (npts != 3) {
                sb_trimesh_free(m);
                return nullptr;
            }
            for (int c = 0; c < 3; c++) m->tris[3 * t + c] = (uint32_t)ids[c];
        }
    return m;
}

void orient_outward(sb_trimesh *m) {
    double vol = 0;
    for (size_t t = 0; t < m->ntris; t++) {
        const float *p[3];
        for (int c = 0; c < 3; c++) p[c] = m->verts + 3 * (size_t)m->tris[3 * t + c];
        vol += (double)p[0][0] * ((double)p[1][1] * p[2][2] - (double)p[1][2] * p[2][1]) -
               (double)p[0][1] * ((double)p[1][0] * p[2][2] - (double)p[1][2] * p[2][0]) +
               (double)p[0][2] * ((double)p[1][0] * p[2][1] - (double)p[1][1] * p[2][0]);
    }
    if (vol < 0)
        for (size_t i = 0; i < m->ntris; i++) {
            uint32_t x = m->tris[3 * i + 1];
            m->tris[3 * i + 1] = m->tris[3 * i + 2];
            m->tris[3 * i + 2] = x;
        }
}

sb_status run_labels(const sb_volume *v, const int *ids, size_t n, const sb_vtk_opts *o,
                     sb_trimesh **out, double *seconds, sb_error *err) {
    const double vox_mm3 = v->spacing[0] * v->spacing[1] * v->spacing[2]; /* as surfaces.c */
    int dims[3];
    for (int a = 0; a < 3; a++) dims[a] = (int)(v->dim[a] + 2);
    std::vector<uint16_t> sel(65536, 0);
    std::vector<size_t> nvox(65536, 0); /* voxels per selected label: the volume to restore */
    for (size_t i = 0; i < n; i++) {
        if (ids[i] < 1 || ids[i] > 65535)
            return sb_error_set(err, SB_ERR_USAGE, "VTK mesher: label id %d outside 1..65535",
                                ids[i]);
        sel[(size_t)ids[i]] = 1;
    }
    vtkNew<vtkImageData> img;
    img->SetDimensions(dims);
    img->SetOrigin(-1, -1, -1);
    img->SetSpacing(1, 1, 1);
    vtkNew<vtkUnsignedShortArray> lab;
    lab->SetName("labels");
    const size_t np = (size_t)dims[0] * (size_t)dims[1] * (size_t)dims[2];
    lab->SetNumberOfTuples((vtkIdType)np);
    uint16_t *d = lab->GetPointer(0);
    std::memset(d, 0, np * sizeof *d);
    for (size_t k = 0; k < v->dim[2]; k++)
        for (size_t j = 0; j < v->dim[1]; j++) {
            size_t src = sb_volume_index(v, 0, j, k);
            size_t dst = 1 + (size_t)dims[0] * ((j + 1) + (size_t)dims[1] * (k + 1));
            for (size_t i = 0; i < v->dim[0]; i++) {
                double x = sb_volume_get(v, src++);
                d[dst] = x >= 1 && x <= 65535 && x == (double)(long)x && sel[(size_t)x]
                             ? (uint16_t)x
                             : 0;
                nvox[d[dst++]]++;
            }
        }
    img->GetPointData()->SetScalars(lab);
    vtkNew<vtkDiscreteFlyingEdges3D> dfe;
    dfe->SetInputData(img);
    dfe->SetNumberOfContours((int)n);
    for (size_t i = 0; i < n; i++) dfe->SetValue((int)i, ids[i]);
    dfe->ComputeNormalsOff();
    dfe->ComputeGradientsOff();
    dfe->ComputeScalarsOn();
    auto t0 = std::chrono::steady_clock::now();
    dfe->Update();
    auto t1 = std::chrono::steady_clock::now();
    if (seconds) *seconds = std::chrono::duration<double>(t1 - t0).count();
    vtkPolyData *pd = dfe->GetOutput();
    vtkPoints *pts = pd->GetPoints();
    vtkCellArray *polys = pd->GetPolys();
    vtkDataArray *sc = pd->GetPointData()->GetScalars();
    for (size_t i = 0; i < n; i++) out[i] = nullptr;
    if (!pts || !polys || !sc) return SB_OK; /* no label present */
    /* split the output by label (the point scalar is the contour value) */
    std::vector<size_t> slot(65536, SIZE_MAX);
    for (size_t i = 0; i < n; i++) slot[(size_t)ids[i]] = i;
    std::vector<std::vector<uint32_t>> tris(n);
    std::vector<uint32_t> local((size_t)pts->GetNumberOfPoints(), UINT32_MAX);
    std::vector<std::vector<float>> verts(n);
    vtkIdType npts;
    const vtkIdType *cid;
    for (polys->InitTraversal(); polys->GetNextCell(npts, cid);) {
        if (npts != 3) return sb_error_set(err, SB_ERR_INTERNAL, "VTK DFE: a non-triangle cell");
        double val = sc->GetComponent(cid[0], 0);
        size_t L = val >= 0 && val <= 65535 ? slot[(size_t)val] : SIZE_MAX;
        if (L == SIZE_MAX) return sb_error_set(err, SB_ERR_INTERNAL, "VTK DFE: scalar %g", val);
        for (int c = 0; c < 3; c++) {
            uint32_t &li = local[(size_t)cid[c]];
            if (li == UINT32_MAX) {
                double p[3], w[3];
                pts->GetPoint(cid[c], p);
                sb_volume_to_world(v, p, w);
                li = (uint32_t)(verts[L].size() / 3);
                for (int a = 0; a < 3; a++) verts[L].push_back((float)w[a]);
            }
            tris[L].push_back(li);
        }
    }
    for (size_t L = 0; L < n; L++) {
        if (tris[L].empty()) continue;
        sb_trimesh tmp = {verts[L].size() / 3, tris[L].size() / 3, verts[L].data(), tris[L].data()};
        if (o && sb__mesh_drop_small(
                     &tmp, o->min_component_mm3 < 0 ? vox_mm3 : o->min_component_mm3) == SIZE_MAX)
            throw std::bad_alloc();
        sb_trimesh *m = nullptr;
        if (o && (o->smooth_iters > 0 || o->target_reduction > 0)) {
            vtkSmartPointer<vtkPolyData> cur = to_polydata(&tmp);
            if (o->smooth_iters > 0) {
                vtkNew<vtkWindowedSincPolyDataFilter> ws;
                ws->SetInputData(cur);
                ws->SetNumberOfIterations(o->smooth_iters);
                ws->SetPassBand(o->passband > 0 ? o->passband : 0.1);
                ws->BoundarySmoothingOff();
                ws->FeatureEdgeSmoothingOff();
                ws->NonManifoldSmoothingOn();
                ws->NormalizeCoordinatesOn();
                ws->Update();
                /* as the native pipeline: the label's voxel volume restored after smoothing
                 * (the windowed sinc keeps the raw surface's volume at best, which lacks what
                 * the cut voxel edges and corners hold: 18-29 % of an eye lens of 11-16
                 * voxels, 9 % of a cervical disc) */
                sb_trimesh *sm = from_polydata(ws->GetOutput(), nullptr);
                if (!sm) throw std::bad_alloc();
                orient_outward(sm);
                sb_status rs =
                    sb__mesh_restore_volume(sm, (double)nvox[(size_t)ids[L]] * vox_mm3,
                                            sm->nverts == tmp.nverts ? tmp.verts : nullptr, err);
                if (rs == SB_OK) cur = to_polydata(sm);
                sb_trimesh_free(sm);
                if (rs != SB_OK) throw std::bad_alloc(); /* its only failure */
            }
            if (o->target_reduction > 0) {
                vtkNew<vtkDecimatePro> dp;
                dp->SetInputData(cur);
                dp->SetTargetReduction(o->target_reduction);
                dp->PreserveTopologyOn();
                dp->SplittingOff();
                dp->BoundaryVertexDeletionOff();
                dp->Update();
                cur = dp->GetOutput();
            }
            m = from_polydata(cur, nullptr);
        } else {
            m = static_cast<sb_trimesh *>(std::calloc(1, sizeof *m));
            if (!m) throw std::bad_alloc();
            m->nverts = tmp.nverts;
            m->ntris = tmp.ntris;
            m->verts = static_cast<float *>(std::malloc(tmp.nverts * 3 * sizeof(float)));
            m->tris = static_cast<uint32_t *>(std::malloc(tmp.ntris * 3 * sizeof(uint32_t)));
            if (!m->verts || !m->tris) {
                sb_trimesh_free(m);
                throw std::bad_alloc();
            }
            std::memcpy(m->verts, tmp.verts, tmp.nverts * 3 * sizeof(float));
            std::memcpy(m->tris, tmp.tris, tmp.ntris * 3 * sizeof(uint32_t));
        }
        if (!m) {
            for (size_t i = 0; i < n; i++) {
                sb_trimesh_free(out[i]);
                out[i] = nullptr;
            }
            return sb_error_set(err, SB_ERR_INTERNAL, "VTK: non-triangle output for label %d",
                                ids[L]);
        }
        orient_outward(m);
        out[L] = m;
    }
    return SB_OK;
}

} // namespace

extern "C" int sb_mesh_have_vtk(void) {
    return 1;
}

extern "C" sb_status sb_mesh_vtk_extract_label(const sb_volume *labels, int label, sb_trimesh **out,
                                               sb_error *err) {
    if (!out) return sb_error_set(err, SB_ERR_USAGE, "sb_mesh_vtk_extract_label: out is NULL");
    *out = nullptr;
    if (!labels || !labels->data || !sb_dtype_size(labels->dtype))
        return sb_error_set(err, SB_ERR_USAGE, "sb_mesh_vtk_extract_label: invalid volume");
    for (int a = 0; a < 3; a++)
        if (labels->dim[a] == 0 || labels->dim[a] > (size_t)(1 << 30))
            return sb_error_set(err, SB_ERR_INPUT, "VTK mesher: axis %d has %zu voxels", a,
                                labels->dim[a]);
    try {
        return run(labels, label, out, err);
    } catch (const std::bad_alloc &) {
        return sb_error_set(err, SB_ERR_MEMORY, "out of memory meshing label %d with VTK", label);
    } catch (...) {
        return sb_error_set(err, SB_ERR_INTERNAL, "VTK failed (C++ exception) on label %d", label);
    }
}

extern "C" sb_status sb_mesh_vtk_labels(const sb_volume *labels, const int *ids, size_t n,
                                        const sb_vtk_opts *opts, sb_trimesh **out,
                                        double *seconds_extract, sb_error *err) {
    if (!out || (n && !ids))
        return sb_error_set(err, SB_ERR_USAGE, "sb_mesh_vtk_labels: out or ids is NULL");
    for (size_t i = 0; i < n; i++) out[i] = nullptr;
    if (!labels || !labels->data || !sb_dtype_size(labels->dtype))
        return sb_error_set(err, SB_ERR_USAGE, "sb_mesh_vtk_labels: invalid volume");
    for (int a = 0; a < 3; a++)
        if (labels->dim[a] == 0 || labels->dim[a] > (size_t)(1 << 30) - 2)
            return sb_error_set(err, SB_ERR_INPUT, "VTK mesher: axis %d has %zu voxels", a,
                                labels->dim[a]);
    try {
        sb_status s = run_labels(labels, ids, n, opts, out, seconds_extract, err);
        if (s)
            for (size_t i = 0; i < n; i++) {
                sb_trimesh_free(out[i]);
                out[i] = nullptr;
            }
        return s;
    } catch (const std::bad_alloc &) {
        for (size_t i = 0; i < n; i++) {
            sb_trimesh_free(out[i]);
            out[i] = nullptr;
        }
        return sb_error_set(err, SB_ERR_MEMORY, "out of memory meshing %zu labels with VTK", n);
    } catch (...) {
        return sb_error_set(err, SB_ERR_INTERNAL, "VTK failed (C++ exception)");
    }
}

extern "C" sb_status sb_mesh_vtp_write(const sb_trimesh *m, const char *path, int force,
                                       sb_error *err) {
    if (!m || !path) return sb_error_set(err, SB_ERR_USAGE, "sb_mesh_vtp_write: NULL argument");
    /* VTK writes into memory; the bytes reach the disk through sb_outfile (temporary name made
     * with O_EXCL|O_NOFOLLOW, renamed when complete, disk full reported), never through a
     * file name VTK would open itself (following links, predictable name). */
    std::string bytes;
    try {
        vtkSmartPointer<vtkPolyData> pd = to_polydata(m);
        vtkNew<vtkXMLPolyDataWriter> w;
        w->SetWriteToOutputString(1);
        w->SetInputData(pd);
        w->SetDataModeToAppended();
        w->SetCompressorTypeToZLib();
        if (!w->Write() || w->GetErrorCode())
            return sb_error_set(err, SB_ERR_OUTPUT, "%s: VTK could not write it", path);
        bytes = w->GetOutputString();
    } catch (const std::bad_alloc &) {
        return sb_error_set(err, SB_ERR_MEMORY, "out of memory writing %s", path);
    }
    sb_outfile o;
    sb_status s = sb_outfile_open(&o, path, force, err);
    if (!s) s = sb_outfile_write(&o, bytes.data(), bytes.size(), err);
    if (!s) s = sb_outfile_commit(&o, err);
    sb_outfile_abort(&o);
    return s;
}
